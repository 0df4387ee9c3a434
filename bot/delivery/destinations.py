"""Destinations over discord.py: a text channel with a thread per post, and a user's DMs."""

from __future__ import annotations

import json
import logging

import aiohttp
import discord

from bot.delivery.executor import PostPlan
from bot.render.post import PostPart

log = logging.getLogger(__name__)

THREAD_ALREADY_EXISTS = 160004
_HISTORY_LOOKBACK = 25
# Digest text never pings anyone, whatever the client's defaults.
_NO_MENTIONS = json.dumps(discord.AllowedMentions.none().to_dict(), separators=(",", ":"))


async def post_embeds(client: discord.Client, channel_id: int, embeds_json: str, nonce: str) -> int:
    """Send a message of already-encoded embeds and return its id, without building a discord.Message.

    A day posted to a thousand channels is 23,000 messages carrying the same few dozen embeds:
    each is encoded once (`PostPart.embeds_json`), and of each answer we read only the id.
    discord.py's HTTP client, its rate-limit handling included, still does the sending.
    """
    # The nonce is ours ("<delivery id>h" or "<delivery id>p<index>"), so it needs no escaping.
    body = f'{{"embeds":{embeds_json},"nonce":"{nonce}","enforce_nonce":true,"tts":false,"allowed_mentions":{_NO_MENTIONS}}}'
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    data = await client.http.request(route, data=aiohttp.BytesPayload(body.encode(), content_type="application/json"))
    return int(data["id"])


class ChannelDestination:
    """A text channel: the header goes in the channel, the parts in a public thread started from it."""

    def __init__(self, client: discord.Client, channel_id: int, guild_id: int | None) -> None:
        self.client = client
        self.guild_id = guild_id
        self.channel = client.get_partial_messageable(channel_id, guild_id=guild_id, type=discord.ChannelType.text)

    def _thread(self, thread_id: int) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(thread_id, guild_id=self.guild_id, type=discord.ChannelType.public_thread)

    async def send_header(self, plan: PostPlan, nonce: str) -> int:
        return await post_embeds(self.client, self.channel.id, plan.header_json, nonce)

    async def _find(self, where: discord.PartialMessageable, match: str, footer: bool) -> int | None:
        me = self.client.user
        try:
            async for message in where.history(limit=_HISTORY_LOOKBACK):
                if me is None or message.author.id != me.id or not message.embeds:
                    continue
                embed = message.embeds[-1] if footer else message.embeds[0]
                if (embed.footer.text if footer else embed.title) == match:
                    return message.id
        except discord.Forbidden:
            log.debug("cannot read history of %s; relying on nonces", where.id)
        return None

    async def find_header(self, title: str) -> int | None:
        return await self._find(self.channel, title, footer=False)

    async def open_thread(self, header_id: int, name: str) -> int:
        # Straight to the REST route: discord.py's PartialMessage.create_thread wants the guild in this
        # process's cache, which a guild on another process's shards is not.
        try:
            thread = await self.client.http.start_thread_with_message(self.channel.id, header_id, name=name,
                                                                      auto_archive_duration=1440)
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_EXISTS:
                return header_id  # a thread started from a message has the message's id
            raise
        return int(thread["id"])

    async def send_part(self, thread_id: int, part: PostPart, nonce: str) -> int:
        return await post_embeds(self.client, thread_id, part.embeds_json, nonce)

    async def find_part(self, thread_id: int, footer: str) -> int | None:
        return await self._find(self._thread(thread_id), footer, footer=True)


def forum_tags(forum: object, categories: list[str]) -> list[int]:
    """The forum's tags named like the categories (`cs.CV`, or its arXiv name), at most 5 (Discord's limit)."""
    if not isinstance(forum, discord.ForumChannel):
        return []
    from bot.core.arxiv_categories import category_name

    wanted: list[str] = []
    for code in categories:
        wanted += [code.lower()] + ([category_name(code).lower()] if category_name(code) else [])
    by_name = {tag.name.lower(): tag.id for tag in forum.available_tags}
    found = list(dict.fromkeys(by_name[name] for name in wanted if name in by_name))
    return found[:5]


class ForumDestination(ChannelDestination):
    """A forum channel: each day is one post (a thread whose first message is the header), the parts follow in it."""

    def __init__(self, client: discord.Client, channel_id: int, guild_id: int | None, title: str, tags: list[int]) -> None:
        super().__init__(client, channel_id, guild_id)
        self.title = title
        self.tags = tags

    async def send_header(self, plan: PostPlan, nonce: str) -> int:
        # Discord takes no nonce for a new forum post: a post cut short by a crash is found by its title instead.
        payload = json.dumps({
            "name": self.title, "auto_archive_duration": 1440, "applied_tags": [str(tag) for tag in self.tags],
            "message": {"embeds": [embed.to_dict() for embed in plan.header],
                        "allowed_mentions": discord.AllowedMentions.none().to_dict()},
        }, separators=(",", ":"))
        route = discord.http.Route("POST", "/channels/{channel_id}/threads", channel_id=self.channel.id)
        data = await self.client.http.request(route, data=aiohttp.BytesPayload(payload.encode(), content_type="application/json"))
        return int(data["id"])  # the post's first message has the thread's id

    async def find_header(self, title: str) -> int | None:
        if self.guild_id is None:
            return None
        route = discord.http.Route("GET", "/guilds/{guild_id}/threads/active", guild_id=self.guild_id)
        try:
            data = await self.client.http.request(route)
        except discord.HTTPException:
            log.debug("cannot list the active threads of guild %s; relying on the ledger", self.guild_id, exc_info=True)
            return None
        me = self.client.user
        for thread in data.get("threads", []):
            if (str(thread.get("parent_id")) == str(self.channel.id) and thread.get("name") == self.title
                    and (me is None or str(thread.get("owner_id")) == str(me.id))):
                return int(thread["id"])
        return None

    async def open_thread(self, header_id: int, name: str) -> int:
        return header_id  # the post is the thread


class DirectMessageDestination:
    """A user's DMs: one message, no thread."""

    def __init__(self, client: discord.Client, user_id: int) -> None:
        self.client = client
        self.user_id = user_id
        self._channel: discord.DMChannel | None = None

    async def _dm(self) -> discord.DMChannel:
        if self._channel is None:
            user = self.client.get_user(self.user_id) or await self.client.fetch_user(self.user_id)
            self._channel = user.dm_channel or await user.create_dm()
        return self._channel

    async def send_header(self, plan: PostPlan, nonce: str) -> int:
        channel = await self._dm()
        if plan.view is not None:
            message = await channel.send(embeds=plan.header, nonce=nonce, view=plan.view)
        else:
            message = await channel.send(embeds=plan.header, nonce=nonce)
        return message.id

    async def find_header(self, title: str) -> int | None:
        channel = await self._dm()
        me = self.client.user
        async for message in channel.history(limit=_HISTORY_LOOKBACK):
            if me is not None and message.author.id == me.id and message.embeds and message.embeds[0].title == title:
                return message.id
        return None

    async def open_thread(self, header_id: int, name: str) -> int:
        raise NotImplementedError("a DM post has no thread")

    async def send_part(self, thread_id: int, part: PostPart, nonce: str) -> int:
        raise NotImplementedError("a DM post has no parts")

    async def find_part(self, thread_id: int, footer: str) -> int | None:
        return None
