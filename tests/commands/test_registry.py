"""Every commands/ extension loads, and together they register valid, distinct slash commands."""

from __future__ import annotations

from pathlib import Path

from discord import app_commands

from bot.app.client import EXTENSIONS, DigestBot
from bot.core.services import Services
from bot.core.settings import Settings


async def test_every_module_in_commands_is_loaded_and_names_are_unique(tmp_path: Path) -> None:
    services = await Services.open(Settings(db_path=tmp_path / "r.sqlite3"))
    bot = DigestBot(services)
    try:
        await bot.__aenter__()  # as `digestbot run` does (`async with bot`), without logging in
        for name in EXTENSIONS:
            await bot.load_extension(name)
        commands = bot.tree.get_commands()
        names = [c.name for c in commands]
        assert len(names) == len(set(names))
        helpers = {"options", "paging", "respond", "__init__"}
        modules = {p.stem for p in (Path(__file__).resolve().parents[2] / "commands").glob("*.py")} - helpers
        assert {e.split(".")[1] for e in EXTENSIONS} == modules
        for command in commands:
            assert 1 <= len(command.description) <= 100, command.name
            params = command.parameters if isinstance(command, app_commands.Command) else []
            for param in params:
                assert 1 <= len(param.description) <= 100, (command.name, param.name)
            if isinstance(command, app_commands.Group):
                for sub in command.commands:
                    assert 1 <= len(sub.description) <= 100, (command.name, sub.name)
    finally:
        await bot.close()
        await services.close()
