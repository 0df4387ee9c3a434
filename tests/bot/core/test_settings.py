"""Settings from the environment and a TOML file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import Settings

GOOD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_defaults_need_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.load({})
    assert settings.db_path == Path("digestbot.sqlite3")
    assert settings.poll_minutes == 30.0
    assert settings.source_url and "daily-arXiv-ai-enhanced" in settings.source_url


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "digestbot.toml"
    config.write_text('db = "from-file.sqlite3"\nlog_level = "debug"\ndefault_post_time = "07:30"\n')
    settings = Settings.load({"DIGESTBOT_DB": "from-env.sqlite3", "DIGESTBOT_CONFIG": str(config)})
    assert settings.db_path == Path("from-env.sqlite3")
    assert settings.log_level == "DEBUG"
    assert settings.default_post_time == dt.time(7, 30)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISCORD_GUILD_ID": "my server"}, "DISCORD_GUILD_ID must be a numeric Discord id"),
        ({"DIGESTBOT_POLL_MINUTES": "-5"}, "DIGESTBOT_POLL_MINUTES must be greater than 0"),
        ({"DIGESTBOT_POLL_MINUTES": "half an hour"}, "DIGESTBOT_POLL_MINUTES must be a number such as 30"),
        ({"DIGESTBOT_DELIVERY_CONCURRENCY": "many"}, "DIGESTBOT_DELIVERY_CONCURRENCY must be a whole number"),
        ({"DIGESTBOT_LOG_LEVEL": "LOUD"}, "DIGESTBOT_LOG_LEVEL must be one of"),
        ({"DIGESTBOT_DEFAULT_TIMEZONE": "Mars/Olympus"}, "DIGESTBOT_DEFAULT_TIMEZONE must be an IANA time zone"),
        ({"DISCORD_API_BASE": "localhost:9"}, "DISCORD_API_BASE must start with http"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(env)


def test_unknown_key_in_the_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('databse = "typo"\n')
    with pytest.raises(ConfigError, match="unknown setting 'databse'"):
        Settings.load({"DIGESTBOT_CONFIG": str(config)})


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "DISCORD_TOKEN is not set"),
        ("", "DISCORD_TOKEN is not set"),
        ("Bot " + GOOD_TOKEN, "starts with 'Bot '"),
        ("1234567890", "does not look like a bot token"),
        ("paste-your-bot-token-here", "still holds the placeholder"),
    ],
)
def test_token_problems_say_how_to_get_one(token: str | None, message: str) -> None:
    settings = dataclasses.replace(Settings(), discord_token=token)
    with pytest.raises(ConfigError, match=message) as caught:
        settings.require_token()
    assert "discord.com/developers/applications" in caught.value.message


def test_a_good_token_is_accepted_and_hidden_from_repr() -> None:
    settings = Settings.load({"DISCORD_TOKEN": GOOD_TOKEN})
    assert settings.require_token() == GOOD_TOKEN
    assert GOOD_TOKEN not in repr(settings)


@pytest.mark.parametrize(("value", "message"), [
    ("2", "DIGESTBOT_PROCESS must be k/n, this process's index k"),
    ("3/3", "k from 0 to n-1 (the first of three processes is 0/3), not '3/3'"),
    ("a/b", "must be k/n"),
    ("0/0", "must be k/n"),
])
def test_a_bad_process_index_names_its_variable(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.load({"DIGESTBOT_PROCESS": value})


def test_several_processes_split_a_fixed_shard_count_on_postgresql_and_share_the_rest_rate() -> None:
    url = {"DIGESTBOT_DATABASE_URL": "postgresql://bot@db/digestbot"}
    second = Settings.load({**url, "DIGESTBOT_PROCESS": "1/3", "DIGESTBOT_SHARDS": "7"})
    second.check_processes()
    assert second.shard_ids == [1, 4] and second.requests_per_second == pytest.approx(15.0)
    alone = Settings.load({"DIGESTBOT_SHARDS": "7"})
    alone.check_processes()
    assert alone.shard_ids is None and alone.requests_per_second is None  # one process follows Discord's headers
    proxied = Settings.load({**url, "DIGESTBOT_PROCESS": "1/3", "DIGESTBOT_SHARDS": "3", "DISCORD_API_BASE": "http://proxy:3000/api/v10"})
    assert proxied.requests_per_second is None  # the proxy keeps the limits
    assert Settings.load({"DIGESTBOT_REST_RATE": "12.5"}).requests_per_second == 12.5
    assert Settings.load({**url, "DIGESTBOT_PROCESS": "0/2", "DIGESTBOT_SHARDS": "2", "DIGESTBOT_REST_RATE": "off"}).requests_per_second is None
    with pytest.raises(ConfigError, match="environment variable DIGESTBOT_PROCESS asks for 3 processes, which must share a PostgreSQL"):
        Settings.load({"DIGESTBOT_PROCESS": "1/3", "DIGESTBOT_SHARDS": "3"}).check_processes()
    with pytest.raises(ConfigError, match=re.escape("set DIGESTBOT_SHARDS to a number of at least 3, the same for every process (now auto)")):
        Settings.load({**url, "DIGESTBOT_PROCESS": "1/3"}).check_processes()
    with pytest.raises(ConfigError, match="DIGESTBOT_REST_RATE must be `auto`, `off` or requests per second"):
        Settings.load({"DIGESTBOT_REST_RATE": "fast"})
