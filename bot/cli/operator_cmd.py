"""`digestbot invite` (the URL that adds the bot to a server) and `digestbot config` (the effective settings)."""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from pathlib import Path
from typing import Any

import discord

from bot.core.settings import Settings
from storage.urls import redact_url

# Exactly what the bot needs in a server: read and post in feed channels, start threads and post in
# them, embed links, attach files (/stats charts, /saved exports), read history (to resume a post).
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True, create_public_threads=True,
    embed_links=True, attach_files=True, read_message_history=True,
)
SCOPES = ("bot", "applications.commands")
_SECRET = {"discord_token", "database_url"}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register invite and config."""
    invite = sub.add_parser(
        "invite", help="print the URL that adds the bot to a server",
        description="Print the OAuth2 URL that adds the bot to a server with the slash commands and exactly the "
        "permissions it needs. The application id comes from DISCORD_TOKEN, or --client-id.",
    )
    invite.add_argument("--client-id", type=int, help="the application id (Developer Portal, General Information)")
    invite.set_defaults(handler=run_invite)
    config = sub.add_parser(
        "config", help="print the effective settings and where each came from",
        description="Print every setting with its value and its origin (default, TOML file, environment, command line). "
        "Secrets are never printed.",
    )
    config.add_argument("--json", action="store_true", help="print one JSON object")
    config.set_defaults(handler=run_config)


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is its application's id in base64; None when it is not shaped so."""
    head = token.strip().split(".", 1)[0]
    try:
        text = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text) if text.isdigit() else None


def invite_url(client_id: int) -> str:
    """The OAuth2 URL adding the bot with its commands and INVITE_PERMISSIONS."""
    return discord.utils.oauth_url(client_id, permissions=INVITE_PERMISSIONS, scopes=SCOPES)


async def run_invite(args: argparse.Namespace, settings: Settings) -> int:
    """Print the invite URL."""
    client_id = args.client_id or (application_id_from_token(settings.discord_token or "") if settings.discord_token else None)
    if client_id is None:
        print("digestbot invite: no application id: set DISCORD_TOKEN (the id is read from it) or pass --client-id "
              "(Developer Portal > your application > General Information > Application ID)", file=sys.stderr)
        return 2
    print(invite_url(client_id))
    print(f"permissions {INVITE_PERMISSIONS.value}: View Channel, Send Messages, Send Messages in Threads, "
          "Create Public Threads, Embed Links, Attach Files, Read Message History", file=sys.stderr)
    return 0


def _shown(attr: str, value: Any) -> Any:
    if attr in _SECRET:
        return "(set, not shown)" if value else None
    if attr == "source_url" and isinstance(value, str):
        return redact_url(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, frozenset):
        return sorted(value)
    if value is not None and not isinstance(value, str | int | float | bool):
        return str(value)
    return value


def effective_settings(settings: Settings) -> list[dict[str, Any]]:
    """Each setting: its variable, TOML key, value as shown, and origin."""
    rows = []
    for attr, spec in Settings.SPEC.items():
        rows.append({"setting": spec.env, "toml": spec.toml, "value": _shown(attr, getattr(settings, attr)),
                     "origin": settings.origins.get(attr, "default")})
    return rows


async def run_config(args: argparse.Namespace, settings: Settings) -> int:
    """Print the settings."""
    rows = effective_settings(settings)
    if args.json:
        print(json.dumps({"config_file": str(settings.config_file) if settings.config_file else None, "settings": rows},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"config file: {settings.config_file or 'none (set DIGESTBOT_CONFIG, or put digestbot.toml here)'}")
    width = max(len(r["setting"]) for r in rows)
    for row in rows:
        value = "(not set)" if row["value"] is None else row["value"]
        print(f"{row['setting']:<{width}}  {value}  [{row['origin']}]")
    return 0
