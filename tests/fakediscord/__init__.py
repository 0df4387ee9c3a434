"""A protocol-level fake of Discord (REST + gateway) on 127.0.0.1 for end-to-end tests."""

from tests.fakediscord.model import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    MEMBER_DEFAULT,
    Channel,
    Guild,
    Message,
    User,
)
from tests.fakediscord.server import FakeDiscord, InteractionRecord, Reply, custom_ids

__all__ = [
    "ADMINISTRATOR", "MANAGE_GUILD", "MEMBER_DEFAULT", "Channel", "FakeDiscord", "Guild", "InteractionRecord",
    "Message", "Reply", "User", "custom_ids",
]
