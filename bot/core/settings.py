"""Settings: one typed object, read once from the environment and an optional TOML file.

The environment wins over the file. Every command receives the same Settings; nothing reads
os.environ elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bot.core.errors import ConfigError

HELP_URL = "https://github.com/arxiv-digest-bot/arxiv-digest-bot#readme"
UPSTREAM_DATA_URL = "https://raw.githubusercontent.com/dw-dengwei/daily-arXiv-ai-enhanced/data"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{18,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{20,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TOKEN_PLACEHOLDER = "paste-your-bot-token-here"
# Discord's global limit: requests per second per bot token, whatever the number of processes.
DISCORD_GLOBAL_RATE = 50.0

TOKEN_HELP = (
    "To get a token: open https://discord.com/developers/applications, choose New Application, "
    "open the Bot page, press Reset Token and copy it. Then set it as DISCORD_TOKEN in the "
    "environment (or `discord_token` in digestbot.toml) and start the bot again. Invite the bot "
    "with the OAuth2 URL Generator: scopes `bot` and `applications.commands`."
)


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"must be a number such as 30, not {value!r}") from None
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def _non_negative_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"must be a number such as 1, not {value!r}") from None
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"must be a whole number such as 25, not {value!r}") from None
    if number <= 0:
        raise ValueError("must be a whole number greater than 0")
    return number


def _shard_count(value: str) -> int | None:
    if value.strip().lower() == "auto":
        return None
    try:
        return _positive_int(value)
    except ValueError:
        raise ValueError(f"must be `auto` (as many shards as Discord recommends) or a number of shards such as 4, not {value!r}") from None


def _process(value: str) -> tuple[int, int]:
    index, slash, count = value.strip().partition("/")
    if not slash or not index.strip().isdigit() or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"must be k/n, this process's index k (0 to n-1) of n processes, such as 0/1 or 2/3, not {value!r}")
    if int(index) >= int(count):
        raise ValueError(f"must be k/n with k from 0 to n-1 (the first of three processes is 0/3), not {value!r}")
    return int(index), int(count)


def _rest_rate(value: str) -> float | str:
    word = value.strip().lower()
    if word in ("auto", "off"):
        return word
    try:
        number = float(word)
    except ValueError:
        raise ValueError(f"must be `auto`, `off` or requests per second such as 15, not {value!r}") from None
    if number <= 0:
        raise ValueError("must be greater than 0 (or `off`)")
    return number


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"must be a whole number such as 3, not {value!r}") from None
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def _host_list(value: str) -> frozenset[str]:
    hosts = frozenset(h.strip().lower() for h in value.split(",") if h.strip())
    bad = [h for h in hosts if not re.fullmatch(r"[a-z0-9.\-]+", h)]
    if bad:
        raise ValueError(f"must be host names separated by commas, such as objects.githubusercontent.com; {bad[0]!r} is not one")
    return hosts


def _snowflake(value: str) -> int:
    if not value.isdigit():
        raise ValueError("must be a numeric Discord id (enable Developer Mode, right-click the server, Copy Server ID)")
    return int(value)


def _log_level(value: str) -> str:
    upper = value.upper()
    if upper not in _LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
    return upper


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def _database_url(value: str) -> str:
    if not value.startswith(("postgresql://", "postgres://")):
        raise ValueError("must be a PostgreSQL URL: postgresql://user:password@host:5432/database")
    return value


def _ws_url(value: str) -> str:
    if not value.startswith(("ws://", "wss://")):
        raise ValueError("must start with ws:// or wss://")
    return value


def _log_format(value: str) -> str:
    if value.lower() not in ("text", "json"):
        raise ValueError("must be text or json")
    return value.lower()


def _language(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]+", value):
        raise ValueError("must be one word such as Chinese or English")
    return value


def _time_of_day(value: str) -> dt.time:
    try:
        hour, minute = value.split(":")
        return dt.time(int(hour), int(minute))
    except ValueError:
        raise ValueError("must be HH:MM, for example 09:00") from None


def _timezone(value: str) -> str:
    from bot.core.dates import known_zone

    found = known_zone(value)
    if found is None:
        raise ValueError("must be an IANA time zone such as Europe/Berlin or UTC")
    return found


@dataclass(frozen=True, slots=True)
class _Field:
    env: str
    toml: str
    parse: Callable[[str], Any]
    help: str


@dataclass(frozen=True)
class Settings:
    """Everything the bot and the CLI can be configured with."""

    db_path: Path = Path("digestbot.sqlite3")
    # Set: the database is PostgreSQL at this URL (DIGESTBOT_DB is then not used).
    database_url: str | None = field(default=None, repr=False)
    discord_token: str | None = field(default=None, repr=False)
    guild_id: int | None = None
    log_level: str = "INFO"
    source_url: str | None = UPSTREAM_DATA_URL
    source_dir: Path | None = None
    source_language: str = "Chinese"
    poll_minutes: float = 30.0
    max_poll_age_hours: float = 36.0
    default_post_time: dt.time = dt.time(9, 0)
    default_timezone: str = "UTC"
    help_url: str = HELP_URL
    tick_seconds: float = 60.0
    delivery_concurrency: int = 25
    source_retry_seconds: float = 2.0
    max_digest_mb: float = 64.0
    max_papers_per_digest: int = 5000
    max_post_age_days: int = 3
    catch_up_days_per_poll: int = 30
    source_redirect_hosts: frozenset[str] = frozenset()
    db_write_wait_seconds: float = 5.0
    db_readers: int = 3
    db_connect_seconds: float = 30.0
    worker_processes: int = 1
    search_budget_seconds: float = 2.5
    cooldown_scale: float = 1.0
    idle_release_seconds: float = 60.0
    shards: int | None = None  # None: as many as Discord recommends
    process: tuple[int, int] = (0, 1)  # this process's index k of n processes sharing the database
    rest_rate: float | str = "auto"  # requests per second this process sends at most; auto, off or a number
    claim_seconds: float = 60.0
    clock_file: Path | None = None
    api_base: str | None = None
    gateway_url: str | None = None
    log_format: str = "text"
    owner_id: int | None = None
    source_alert_hours: float = 24.0
    config_file: Path | None = None
    # attribute -> where its value came from (`environment variable X`, `x` in FILE); absent = default.
    origins: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    # attribute -> how it is read; the README and deploy/.env.example list the same names.
    SPEC: ClassVar[dict[str, _Field]] = {
        "db_path": _Field("DIGESTBOT_DB", "db", Path, "SQLite database file (created if missing)"),
        "database_url": _Field("DIGESTBOT_DATABASE_URL", "database_url", _database_url, "a PostgreSQL database instead of the SQLite file: postgresql://user:password@host/db (install with .[postgres])"),
        "discord_token": _Field("DISCORD_TOKEN", "discord_token", str, "the bot token from the Developer Portal"),
        "guild_id": _Field("DISCORD_GUILD_ID", "guild_id", _snowflake, "sync commands to this one server only (fast, for development)"),
        "log_level": _Field("DIGESTBOT_LOG_LEVEL", "log_level", _log_level, "DEBUG, INFO, WARNING or ERROR"),
        "log_format": _Field("DIGESTBOT_LOG_FORMAT", "log_format", _log_format, "`text` (one line per event) or `json` (one JSON object per line, for log shippers)"),
        "source_url": _Field("DIGESTBOT_SOURCE_URL", "source_url", _url, "raw base URL of a daily-arXiv-ai-enhanced data branch"),
        "source_dir": _Field("DIGESTBOT_SOURCE_DIR", "source_dir", Path, "a local folder of digest files to watch"),
        "source_language": _Field("DIGESTBOT_SOURCE_LANGUAGE", "source_language", _language, "the <Language> of *_AI_enhanced_<Language>.jsonl"),
        "poll_minutes": _Field("DIGESTBOT_POLL_MINUTES", "poll_minutes", _positive_float, "minutes between polls of the source"),
        "max_poll_age_hours": _Field("DIGESTBOT_MAX_POLL_AGE_HOURS", "max_poll_age_hours", _positive_float, "`digestbot health` fails when the last good poll is older"),
        "default_post_time": _Field("DIGESTBOT_DEFAULT_TIME", "default_post_time", _time_of_day, "post time for new feeds and DMs, HH:MM"),
        "default_timezone": _Field("DIGESTBOT_DEFAULT_TIMEZONE", "default_timezone", _timezone, "IANA zone for new feeds and DMs"),
        "help_url": _Field("DIGESTBOT_HELP_URL", "help_url", _url, "the guide /about links to"),
        "tick_seconds": _Field("DIGESTBOT_TICK_SECONDS", "tick_seconds", _positive_float, "seconds between checks for due posts"),
        "delivery_concurrency": _Field("DIGESTBOT_DELIVERY_CONCURRENCY", "delivery_concurrency", _positive_int, "channels and DMs posted to at once"),
        "source_retry_seconds": _Field("DIGESTBOT_SOURCE_RETRY_SECONDS", "source_retry_seconds", _positive_float, "first backoff after a 5xx or network error from the source"),
        "max_digest_mb": _Field("DIGESTBOT_MAX_DIGEST_MB", "max_digest_mb", _positive_float, "largest digest file accepted, in MB after decompression"),
        "max_papers_per_digest": _Field("DIGESTBOT_MAX_PAPERS_PER_DIGEST", "max_papers_per_digest", _positive_int, "most papers one digest file may hold"),
        "max_post_age_days": _Field("DIGESTBOT_MAX_POST_AGE_DAYS", "max_post_age_days", _non_negative_int, "a polled day older than this on arrival is stored but not posted"),
        "catch_up_days_per_poll": _Field("DIGESTBOT_CATCH_UP_DAYS_PER_POLL", "catch_up_days_per_poll", _positive_int, "missed days fetched per poll after downtime"),
        "source_redirect_hosts": _Field("DIGESTBOT_SOURCE_REDIRECT_HOSTS", "source_redirect_hosts", _host_list, "other hosts the source may redirect to (https only), comma separated"),
        "db_write_wait_seconds": _Field("DIGESTBOT_DB_WRITE_WAIT_SECONDS", "db_write_wait_seconds", _positive_float, "how long a write waits for a database locked by another process"),
        "db_connect_seconds": _Field("DIGESTBOT_DB_CONNECT_SECONDS", "db_connect_seconds", _positive_float, "how long to keep trying a PostgreSQL server that is down at start"),
        "db_readers": _Field("DIGESTBOT_DB_READERS", "db_readers", _positive_int, "reader connections (searches run side by side)"),
        "worker_processes": _Field("DIGESTBOT_WORKERS", "workers", _positive_int, "worker processes for ranking, charts and exports (started at first use)"),
        "cooldown_scale": _Field("DIGESTBOT_COOLDOWN_SCALE", "cooldown_scale", _non_negative_float, "stretch (2) or relax (0.5) the per-member command limits; 0 turns them off"),
        "search_budget_seconds": _Field("DIGESTBOT_SEARCH_BUDGET_SECONDS", "search_budget_seconds", _positive_float, "a search running longer is stopped as too broad"),
        "shards": _Field("DIGESTBOT_SHARDS", "shards", _shard_count, "`auto` (as many as Discord recommends) or a number of gateway shards (split between the processes of DIGESTBOT_PROCESS)"),
        "process": _Field("DIGESTBOT_PROCESS", "process", _process, "k/n: this is process k (0 to n-1) of n `digestbot run` processes sharing one PostgreSQL database, running the shards with shard % n == k (n > 1 needs DIGESTBOT_DATABASE_URL and a number of DIGESTBOT_SHARDS)"),
        "rest_rate": _Field("DIGESTBOT_REST_RATE", "rest_rate", _rest_rate, "REST requests per second this process sends at most: `auto` (its share, 45/n, of Discord's 50 per second when n > 1 processes talk to Discord directly; no cap otherwise), `off` (set it when DISCORD_API_BASE is a shared rate-limiting proxy), or a number"),
        "claim_seconds": _Field("DIGESTBOT_CLAIM_SECONDS", "claim_seconds", _positive_float, "how long a post claimed by a process that stopped answering waits before another process resumes it"),
        "idle_release_seconds": _Field("DIGESTBOT_IDLE_RELEASE_SECONDS", "idle_release_seconds", _positive_float, "after this long without a search or write, database caches are released (memory)"),
        "owner_id": _Field("DIGESTBOT_OWNER_ID", "owner_id", _snowflake, "Discord user told by DM when the source fails for long (default: the application's owner)"),
        "source_alert_hours": _Field("DIGESTBOT_SOURCE_ALERT_HOURS", "source_alert_hours", _positive_float, "hours of failed polls before the owner is told"),
        "clock_file": _Field("DIGESTBOT_CLOCK_FILE", "clock_file", Path, "tests only: a file holding the current time (ISO 8601)"),
        "api_base": _Field("DISCORD_API_BASE", "api_base", _url, "REST base URL: a shared rate-limiting proxy for several processes (e.g. http://proxy:3000/api/v10), or a fake Discord in tests"),
        "gateway_url": _Field("DISCORD_GATEWAY_URL", "gateway_url", _ws_url, "tests only: gateway URL of a fake Discord"),
    }

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
        """Read settings from a TOML file (DIGESTBOT_CONFIG, or ./digestbot.toml if present) and the environment."""
        env = os.environ if environ is None else environ
        path = config_file or (Path(env["DIGESTBOT_CONFIG"]) if env.get("DIGESTBOT_CONFIG") else None)
        if path is None and Path("digestbot.toml").is_file():
            path = Path("digestbot.toml")
        file_values: dict[str, Any] = {}
        if path is not None:
            try:
                file_values = tomllib.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ConfigError(f"config file {path} (DIGESTBOT_CONFIG) does not exist") from None
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
            known = {spec.toml for spec in cls.SPEC.values()}
            unknown = sorted(set(file_values) - known)
            if unknown:
                raise ConfigError(f"config file {path}: unknown setting {unknown[0]!r}; known settings are {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for attr, spec in cls.SPEC.items():
            origin, raw = None, None
            if env.get(spec.env, "").strip():
                origin, raw = f"environment variable {spec.env}", env[spec.env].strip()
            elif spec.toml in file_values:
                value = file_values[spec.toml]
                text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
                origin, raw = f"`{spec.toml}` in {path}", text.strip()
            if raw is None:
                continue
            origins[attr] = origin or ""
            if attr == "source_url" and raw.lower() in ("", "none", "off"):
                values[attr] = None
                continue
            try:
                values[attr] = spec.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{origin} {exc}") from None
        values["config_file"] = path
        values["origins"] = origins
        return cls(**values)

    @property
    def database(self) -> str | Path:
        """Where the database is: the PostgreSQL URL when DIGESTBOT_DATABASE_URL is set, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def database_name(self) -> str:
        """The database as it may be printed (a URL without its password)."""
        if self.database_url:
            from storage.postgres.dialect import shown_url

            return shown_url(self.database_url)
        return str(self.db_path)

    @property
    def max_digest_bytes(self) -> int:
        """DIGESTBOT_MAX_DIGEST_MB in bytes."""
        return int(self.max_digest_mb * 1024 * 1024)

    @property
    def shard_ids(self) -> list[int] | None:
        """The gateway shards this process runs (shard % n == k); None: every shard (one process)."""
        index, count = self.process
        if count == 1:
            return None
        assert self.shards is not None  # check_processes
        return [shard for shard in range(self.shards) if shard % count == index]

    @property
    def requests_per_second(self) -> float | None:
        """This process's cap on REST requests per second, None for none (DIGESTBOT_REST_RATE)."""
        if isinstance(self.rest_rate, int | float):
            return float(self.rest_rate)
        if self.rest_rate == "off" or self.process[1] == 1 or self.api_base:
            # One process follows Discord's own headers; behind a proxy the proxy keeps the limits.
            return None
        return DISCORD_GLOBAL_RATE * 0.9 / self.process[1]

    def check_processes(self) -> None:
        """Raise ConfigError unless DIGESTBOT_PROCESS, DIGESTBOT_SHARDS and the database fit together."""
        count = self.process[1]
        if count == 1:
            return
        origin = self.origins.get("process", "DIGESTBOT_PROCESS")
        if not self.database_url:
            raise ConfigError(f"{origin} asks for {count} processes, which must share a PostgreSQL database: set "
                              "DIGESTBOT_DATABASE_URL (one process serves a SQLite file)")
        if self.shards is None or self.shards < count:
            raise ConfigError(f"{origin} asks for {count} processes, which split a fixed number of gateway shards: set "
                              f"DIGESTBOT_SHARDS to a number of at least {count}, the same for every process "
                              f"(now {self.shards or 'auto'})")

    def require_token(self) -> str:
        """Return the Discord token, or raise ConfigError saying how to get a valid one."""
        token = (self.discord_token or "").strip()
        if not token:
            raise ConfigError(f"DISCORD_TOKEN is not set, so the bot cannot log in to Discord. {TOKEN_HELP}")
        if token == TOKEN_PLACEHOLDER or "paste" in token.lower():
            raise ConfigError(f"DISCORD_TOKEN still holds the placeholder from deploy/.env.example; put your bot's token there. {TOKEN_HELP}")
        if token.lower().startswith("bot "):
            raise ConfigError(f"DISCORD_TOKEN starts with 'Bot '; set only the token itself. {TOKEN_HELP}")
        if not _TOKEN_SHAPE.match(token):
            raise ConfigError(
                "DISCORD_TOKEN does not look like a bot token (three dot-separated parts, about 70 "
                f"characters; a client secret or application id will not work). {TOKEN_HELP}"
            )
        return token


def setting_names() -> list[str]:
    """Return every environment variable the settings read."""
    return [spec.env for spec in Settings.SPEC.values()] + ["DIGESTBOT_CONFIG"]

