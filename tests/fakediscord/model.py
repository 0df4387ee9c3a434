"""The fake Discord's world: users, guilds, roles, channels, messages, and their JSON forms."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

# Permission bits used by the bot and the tests.
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER_DEFAULT = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS

# Snowflakes start from the clock, so two runs never share ids (an application id reused on the
# same database would look like the same application to the bot).
_ids = itertools.count(1_200_000_000_000_000_000 + int(time.time() * 1000) % 10**11 * 1000)


def snowflake() -> int:
    """Return a new unique id."""
    return next(_ids)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    dms_closed: bool = False
    locale: str = "en-US"  # the language of this user's Discord, sent with each interaction

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "username": self.username, "discriminator": "0", "global_name": self.username,
            "avatar": None, "bot": self.bot, "public_flags": 0, "flags": 0,
        }


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "name": self.name, "permissions": str(self.permissions), "position": self.position,
            "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0,
        }


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Channel:
    id: int
    name: str
    type: int = 0  # 0 text, 1 DM, 11 public thread, 15 forum
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_id: int | None = None
    owner_id: int | None = None
    starter_message_id: int | None = None
    deleted: bool = False
    available_tags: list[dict[str, Any]] = field(default_factory=list)  # a forum's tags
    applied_tags: list[int] = field(default_factory=list)  # a forum post's tags

    def payload(self, users: dict[int, User] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(self.id), "type": self.type, "name": self.name, "position": self.position, "flags": 0}
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
            data["permission_overwrites"] = [o.payload() for o in self.overwrites]
            data["nsfw"] = False
            data["rate_limit_per_user"] = 0
        if self.parent_id is not None:
            data["parent_id"] = str(self.parent_id)
        if self.type == 15:
            data.update({"available_tags": self.available_tags, "default_reaction_emoji": None, "default_sort_order": None,
                         "default_forum_layout": 0, "default_thread_rate_limit_per_user": 0, "topic": None})
        if self.type == 11:
            if self.applied_tags:
                data["applied_tags"] = [str(t) for t in self.applied_tags]
            data.update({
                "owner_id": str(self.owner_id), "member_count": 1, "message_count": 0, "total_message_sent": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": now_iso(), "locked": False},
            })
        if self.type == 1 and users is not None and self.recipient_id is not None:
            data["recipients"] = [users[self.recipient_id].payload()]
            data["last_message_id"] = None
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # user id -> role ids
    system_channel_id: int | None = None

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def base_permissions(self, user_id: int) -> int:
        if user_id == self.owner_id:
            return (1 << 53) - 1
        perms = self.everyone.permissions
        for role_id in self.members.get(user_id, []):
            perms |= self.roles[role_id].permissions
        if perms & ADMINISTRATOR:
            return (1 << 53) - 1
        return perms

    def channel_permissions(self, user_id: int, channel: Channel) -> int:
        perms = self.base_permissions(user_id)
        if perms == (1 << 53) - 1:
            return perms
        target = self.channels.get(channel.parent_id) if channel.type == 11 and channel.parent_id else channel
        overwrites = target.overwrites if target else []
        for ow in overwrites:
            if ow.type == 0 and ow.id == self.id:
                perms = (perms & ~ow.deny) | ow.allow
        allow = deny = 0
        for ow in overwrites:
            if ow.type == 0 and ow.id in self.members.get(user_id, []):
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        for ow in overwrites:
            if ow.type == 1 and ow.id == user_id:
                perms = (perms & ~ow.deny) | ow.allow
        return perms

    def member_payload(self, user: User, with_permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user": user.payload(), "roles": [str(r) for r in self.members.get(user.id, [])], "flags": 0,
            "joined_at": now_iso(), "deaf": False, "mute": False, "nick": None, "avatar": None, "pending": False,
        }
        if with_permissions is not None:
            data["permissions"] = str(with_permissions)
        return data

    def payload(self, users: dict[int, User]) -> dict[str, Any]:
        return {
            "id": str(self.id), "name": self.name, "owner_id": str(self.owner_id), "icon": None, "splash": None,
            "discovery_splash": None, "features": [], "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "preferred_locale": "en-US", "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None, "afk_channel_id": None, "afk_timeout": 300,
            "roles": [r.payload() for r in self.roles.values()], "emojis": [], "stickers": [],
            "channels": [c.payload() for c in self.channels.values() if c.type != 11 and not c.deleted],
            "threads": [c.payload() for c in self.channels.values() if c.type == 11 and not c.deleted],
            "members": [self.member_payload(users[u]) for u in self.members],
            "member_count": len(self.members), "large": False, "unavailable": False, "voice_states": [],
            "presences": [], "joined_at": now_iso(), "lazy": True, "max_members": 1000,
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "premium_progress_bar_enabled": False, "application_id": None,
        }


@dataclass
class Message:
    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    files: list[bytes] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    interaction_id: int | None = None
    webhook_id: int | None = None
    thread_id: int | None = None
    deleted: bool = False
    edits: int = 0
    guild_id: int | None = None
    nonce: str | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    def payload(self, users: dict[int, User]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id), "type": 0 if self.interaction_id is None else 20, "channel_id": str(self.channel_id),
            "content": self.content, "embeds": self.embeds, "components": self.components,
            "attachments": self.attachments, "author": users[self.author_id].payload(), "mentions": [],
            "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
            "timestamp": now_iso(), "edited_timestamp": None, "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.thread_id is not None:
            data["thread"] = {"id": str(self.thread_id)}
        return data
