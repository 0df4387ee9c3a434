"""A protocol-level fake of Discord's REST API and gateway, on 127.0.0.1, for end-to-end tests.

The real discord.py client (in the bot process) talks HTTP and WebSocket to this server. Tests
drive it from their own event loop: they send slash commands, clicks and autocompletes as
gateway events and await the bot's replies, which the server records. See FAKE_DISCORD.md.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakediscord.model import (
    MANAGE_GUILD,
    MEMBER_DEFAULT,
    Channel,
    Guild,
    Message,
    Overwrite,
    Role,
    User,
    snowflake,
)
from tests.fakediscord.ratelimit import RateLimiter

API = "/api/v10"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON reply whose Content-Type is exactly application/json (discord.py insists)."""
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: Any
    at: float
    status: int = 0
    peer: int = 0  # the client's TCP port: which process sent it (tests/botworld.py `BotProcess.owns_port`)


@dataclass
class Fault:
    """Answer matching requests with `status` for the next `times` requests (None: until removed)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    times: int | None
    retry_after: float = 0.05
    code: int = 0
    is_global: bool = False
    hits: int = 0


@dataclass
class Hold:
    """Keep the reply to matching requests for `seconds` after the request took effect."""

    method: str
    pattern: re.Pattern[str]
    seconds: float
    times: int
    skip: int = 0
    seen: int = 0
    hits: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    held: list[RecordedRequest] = field(default_factory=list)  # the requests whose answers were held


@dataclass
class InteractionRecord:
    id: int
    token: str
    user_id: int
    channel_id: int
    guild_id: int | None
    kind: int
    callback_type: int | None = None
    callback_data: dict[str, Any] | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # time.monotonic() when the event left for the bot, and when the bot first answered (or deferred).
    sent_at: float = 0.0
    answered_at: float | None = None


@dataclass
class Reply:
    """What a user sees as the answer to one interaction."""

    interaction: InteractionRecord
    message: Message | None
    choices: list[dict[str, Any]] | None = None

    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.message else []

    @property
    def ephemeral(self) -> bool:
        return bool(self.message and self.message.ephemeral)

    @property
    def text(self) -> str:
        """Content plus every embed's title, description, fields and footer, as one string."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
            parts += [f"{f.get('name', '')}\n{f.get('value', '')}" for f in embed.get("fields", [])]
            parts.append(embed.get("footer", {}).get("text", ""))
        return "\n".join(p for p in parts if p)

    def custom_ids(self) -> list[str]:
        return custom_ids(self.message)

    def button(self, label: str) -> str:
        """The custom_id of the button showing `label`."""
        for row in self.message.components if self.message else []:
            for component in row.get("components", []):
                if component.get("label") == label:
                    return str(component["custom_id"])
        raise AssertionError(f"no button labelled {label!r}")


def custom_ids(message: Message | None) -> list[str]:
    """Every component custom_id on a message, in order."""
    found: list[str] = []
    for row in message.components if message else []:
        for component in row.get("components", []):
            if "custom_id" in component:
                found.append(component["custom_id"])
    return found


class FakeDiscord:
    """One fake Discord: an application, its bot user, guilds, and a gateway."""

    def __init__(self) -> None:
        self.app_id = snowflake()
        self.bot_user = User(self.app_id, "DigestBot", bot=True)
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        # Who GET /oauth2/applications/@me names as the application's owner (default: the first user).
        self.app_owner_id: int | None = None
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        # The same messages by channel, in the order they were made: a day to 10,000 channels is
        # 230,000 messages, and a scan of every message per POST (nonce) or history read is quadratic.
        self.messages_by_channel: dict[int, list[Message]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.rate_limiter: RateLimiter | None = None
        self.token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.FakeDi.scord-token-for-tests-only-0123456789"
        self.clicked: dict[int, Message] = {}
        self.duplicate_nonces = 0
        self.message_created = asyncio.Condition()
        self.commands_synced = asyncio.Event()
        self.gateway = Gateway(self)
        self.recommended_shards: int | None = None  # GET /gateway/bot's `shards`; default a shard per 1,000 guilds
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- world building -------------------------------------------------------------------

    def add_user(self, name: str, *, dms_closed: bool = False, locale: str = "en-US") -> User:
        user = User(snowflake(), name, dms_closed=dms_closed, locale=locale)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User, *, bot_permissions: int = MEMBER_DEFAULT,
                  on_shard: tuple[int, int] | None = None) -> Guild:
        """A server with the bot in it; `on_shard=(k, n)` picks an id on shard k of n."""
        guild_id = snowflake()
        if on_shard is not None:
            shard, count = on_shard
            moment = guild_id >> 22
            moment += (shard - moment) % count
            guild_id = (moment << 22) | (guild_id & ((1 << 22) - 1))
            while guild_id in self.guilds:
                guild_id += 1
        guild = Guild(guild_id, name, owner.id)
        guild.roles[guild.id] = Role(guild.id, "@everyone", MEMBER_DEFAULT & ~(1 << 35))
        bot_role = Role(snowflake(), "DigestBot", bot_permissions, position=1)
        guild.roles[bot_role.id] = bot_role
        guild.members[owner.id] = []
        guild.members[self.bot_user.id] = [bot_role.id]
        self.guilds[guild.id] = guild
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int) -> Role:
        role = Role(snowflake(), name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_member(self, guild: Guild, user: User, *roles: Role) -> None:
        guild.members[user.id] = [r.id for r in roles]

    def add_channel(self, guild: Guild, name: str, *, deny_bot: int = 0) -> Channel:
        channel = Channel(snowflake(), name, guild_id=guild.id, position=len(guild.channels))
        if deny_bot:
            channel.overwrites.append(Overwrite(self.bot_user.id, 1, deny=deny_bot))
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_forum(self, guild: Guild, name: str, tags: list[str] | None = None) -> Channel:
        """A forum channel, with tags of these names."""
        forum = self.add_channel(guild, name)
        forum.type = 15
        forum.available_tags = [{"id": str(snowflake()), "name": tag, "moderated": False, "emoji_id": None, "emoji_name": None}
                                for tag in tags or []]
        return forum

    def forum_posts(self, forum: Channel) -> list[Channel]:
        """The posts (threads) of a forum, oldest first."""
        return sorted((c for c in self.channels.values() if c.parent_id == forum.id and not c.deleted), key=lambda c: c.id)

    def admin_role(self, guild: Guild) -> Role:
        return self.add_role(guild, "Moderators", MEMBER_DEFAULT | MANAGE_GUILD)

    # ----- lifecycle --------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", API + "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for hold in self.holds:
            hold.released.set()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ----- faults -----------------------------------------------------------------------------

    def fail(self, method: str, pattern: str, status: int, *, times: int | None = 1, retry_after: float = 0.05,
             code: int = 0, is_global: bool = False) -> Fault:
        """Answer the next `times` requests matching method and path regex with `status`."""
        fault = Fault(method.upper(), re.compile(pattern), status, times, retry_after, code, is_global)
        self.faults.append(fault)
        return fault

    def hold(self, method: str, pattern: str, seconds: float, *, times: int = 1, skip: int = 0) -> Hold:
        """Apply matching requests at once but answer them only after `seconds` (a crash window).

        The first `skip` matching requests are answered normally.
        """
        hold = Hold(method.upper(), re.compile(pattern), seconds, times, skip)
        self.holds.append(hold)
        return hold

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.pattern.search(path) and (fault.times is None or fault.hits < fault.times):
                fault.hits += 1
                return fault
        return None

    # ----- REST -------------------------------------------------------------------------------

    async def _read_body(self, request: web.Request) -> tuple[Any, list[bytes]]:
        if request.content_type == "multipart/form-data":
            payload: Any = {}
            files: list[bytes] = []
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if getattr(part, "name", None) == "payload_json":
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    files.append(bytes(await part.read()))  # type: ignore[union-attr]
            return payload, files
        if request.can_read_body:
            raw = await request.read()
            return (json.loads(raw) if raw else None), []
        return None, []

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        peername = request.transport.get_extra_info("peername") if request.transport is not None else None
        record = RecordedRequest(request.method, path, body, time.monotonic(), peer=int(peername[1]) if peername else 0)
        self.requests.append(record)
        fault = self._fault_for(request.method, path)
        if fault is not None:
            record.status = fault.status
            if fault.status == 429:
                headers = {"Via": "1.1 google", "Retry-After": str(fault.retry_after)}
                if fault.is_global:
                    headers["X-RateLimit-Global"] = "true"
                return json_response({"message": "You are being rate limited.", "retry_after": fault.retry_after,
                                      "global": fault.is_global}, 429, headers)
            return json_response({"message": "fake failure", "code": fault.code}, fault.status)
        headers: dict[str, str] = {}
        if self.rate_limiter is not None:
            limited, headers = self.rate_limiter.check(request.method, path)
            if limited is not None:
                record.status = 429
                is_global = headers.get("X-RateLimit-Global") == "true"
                return json_response({"message": "You are being rate limited.", "retry_after": limited, "global": is_global},
                                     429, {**headers, "Via": "1.1 google", "Retry-After": f"{limited:.3f}"})
        try:
            response = await self._route(request.method, path, request, body, files)
        except web.HTTPException:
            raise
        record.status = response.status
        response.headers.update(headers)
        for hold in self.holds:
            if hold.method == request.method and hold.pattern.search(path) and response.status < 300:
                hold.seen += 1
                if hold.seen <= hold.skip or hold.hits >= hold.times:
                    continue
                hold.hits += 1
                hold.held.append(record)
                hold.started.set()
                try:
                    await asyncio.wait_for(hold.released.wait(), hold.seconds)
                except TimeoutError:
                    pass
        return response

    async def _route(self, method: str, path: str, request: web.Request, body: Any, files: list[bytes]) -> web.Response:
        parts = path.strip("/").split("/")
        handler = _ROUTES.get((method, _shape(parts)))
        if handler is None:
            return json_response({"message": f"fake discord has no route {method} {path}", "code": 0}, 404)
        return await handler(self, parts, request, body, files)

    # ----- what tests call --------------------------------------------------------------------

    def _interaction_base(self, kind: int, user: User, channel: Channel, guild: Guild | None) -> tuple[InteractionRecord, dict[str, Any]]:
        record = InteractionRecord(snowflake(), f"itoken-{snowflake()}", user.id, channel.id, guild.id if guild else None, kind,
                                   sent_at=time.monotonic())
        self.interactions[record.id] = record
        self.by_token[record.token] = record
        data: dict[str, Any] = {
            "id": str(record.id), "application_id": str(self.app_id), "type": kind, "token": record.token,
            "version": 1, "attachment_size_limit": 10 * 1024 * 1024, "locale": user.locale, "entitlements": [],
            "authorizing_integration_owners": {}, "app_permissions": "0",
            "channel": channel.payload(self.users), "channel_id": str(channel.id),
        }
        if guild is not None:
            data["guild_id"] = str(guild.id)
            data["guild_locale"] = "en-US"
            data["member"] = guild.member_payload(user, guild.channel_permissions(user.id, channel))
            data["app_permissions"] = str(guild.channel_permissions(self.bot_user.id, channel))
            data["context"] = 0
        else:
            data["user"] = user.payload()
            data["context"] = 1
        return record, data

    def dm_channel(self, user: User) -> Channel:
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipient_id == user.id:
                return channel
        channel = Channel(snowflake(), "", type=1, recipient_id=user.id)
        self.channels[channel.id] = channel
        return channel

    async def slash(self, user: User, name: str, options: dict[str, Any] | None = None, *,
                    channel: Channel | None = None, guild: Guild | None = None,
                    subcommand: str | None = None, focused: str | None = None) -> InteractionRecord:
        """Send a slash command (or, with `focused`, an autocomplete) as `user`; return its record."""
        if channel is None:
            channel = self.dm_channel(user) if guild is None else next(c for c in guild.channels.values() if c.type == 0)
        if guild is None and channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
        kind = 4 if focused else 2
        record, data = self._interaction_base(kind, user, channel, guild)
        command = self._find_command(name, guild)
        option_list = [
            {"name": key, "type": _option_type(command, subcommand, key, value), "value": str(value.id) if isinstance(value, Channel) else value,
             **({"focused": True} if key == focused else {})}
            for key, value in (options or {}).items() if value is not None
        ]
        resolved: dict[str, Any] = {}
        for option in option_list:
            if option["type"] == 7:
                target = self.channels[int(option["value"])]
                option["value"] = str(target.id)
                payload = target.payload(self.users)
                if guild is not None:
                    payload["permissions"] = str(guild.channel_permissions(user.id, target))
                resolved.setdefault("channels", {})[str(target.id)] = payload
        if subcommand is not None:
            option_list = [{"name": subcommand, "type": 1, "options": option_list}]
        data["data"] = {"id": command.get("id", "0"), "name": name, "type": 1, "options": option_list}
        if resolved:
            data["data"]["resolved"] = resolved
        if guild is not None and command.get("guild_id"):
            data["data"]["guild_id"] = str(guild.id)
        await self.gateway.dispatch("INTERACTION_CREATE", data)
        return record

    async def click(self, user: User, message: Message, custom_id: str, values: list[str] | None = None) -> InteractionRecord:
        """Press a button (or choose select `values`) on `message` as `user`."""
        channel = self.channels[message.channel_id]
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        record, data = self._interaction_base(3, user, channel, guild)
        component_type = 2
        for row in message.components:
            for component in row.get("components", []):
                if component.get("custom_id") == custom_id:
                    component_type = component["type"]
        data["data"] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["data"]["values"] = values
        data["message"] = message.payload(self.users)
        self.clicked[record.id] = message
        await self.gateway.dispatch("INTERACTION_CREATE", data)
        return record

    async def reply(self, record: InteractionRecord, timeout: float = 10.0) -> Reply:
        """Wait until the interaction has a visible answer; return it."""
        async def answered() -> Reply:
            while True:
                if record.callback_type == 8:
                    return Reply(record, None, choices=(record.callback_data or {}).get("choices", []))
                if record.callback_type in (4, 7) and record.original is not None:
                    return Reply(record, record.original)
                if record.callback_type in (5, 6) and (record.followups or (record.original and record.original.edits)):
                    return Reply(record, record.followups[0] if record.followups else record.original)
                record.changed.clear()
                await record.changed.wait()
        return await asyncio.wait_for(answered(), timeout)

    async def wait_followups(self, record: InteractionRecord, count: int, timeout: float = 10.0) -> list[Message]:
        async def enough() -> list[Message]:
            while len(record.followups) < count:
                record.changed.clear()
                await record.changed.wait()
            return record.followups
        return await asyncio.wait_for(enough(), timeout)

    async def wait_for_message(self, predicate: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        """Wait for a message (channel, thread or DM) matching `predicate`."""
        async with self.message_created:
            await asyncio.wait_for(self.message_created.wait_for(lambda: any(predicate(m) for m in self.messages.values())), timeout)
        return next(m for m in self.messages.values() if predicate(m))

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `condition()` holds, re-checking whenever a message is created or changed."""
        async with self.message_created:
            await asyncio.wait_for(self.message_created.wait_for(condition), timeout)

    def channel_messages(self, channel: Channel | int) -> list[Message]:
        channel_id = channel if isinstance(channel, int) else channel.id
        return [m for m in self.messages_by_channel.get(channel_id, []) if not m.deleted and m.interaction_id is None]

    def threads_of(self, channel: Channel) -> list[Channel]:
        return [c for c in self.channels.values() if c.type == 11 and c.parent_id == channel.id]

    def dms_to(self, user: User) -> list[Message]:
        return self.channel_messages(self.dm_channel(user))

    def _find_command(self, name: str, guild: Guild | None) -> dict[str, Any]:
        for scope in ([str(guild.id)] if guild else []) + ["global"]:
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise AssertionError(f"the bot did not register /{name} (registered: {[c['name'] for cs in self.commands.values() for c in cs]})")

    async def _notify(self) -> None:
        async with self.message_created:
            self.message_created.notify_all()


def _option_type(command: dict[str, Any], subcommand: str | None, name: str, value: Any) -> int:
    if isinstance(value, Channel):
        return 7
    options = command.get("options", [])
    if subcommand is not None:
        options = next((o.get("options", []) for o in options if o["name"] == subcommand), [])
    for option in options:
        if option["name"] == name:
            return int(option["type"])
    return 3 if isinstance(value, str) else 4 if isinstance(value, int) else 5


def _shape(parts: list[str]) -> tuple[str, ...]:
    """Replace ids and tokens in a path with placeholders: channels/123/messages -> channels/{}/messages."""
    shaped = []
    for index, part in enumerate(parts):
        if part.isdigit():
            shaped.append("{}")
        elif index >= 2 and parts[index - 1].isdigit() and parts[index - 2] in ("webhooks", "interactions"):
            shaped.append("{token}")
        else:
            shaped.append(part)
    return tuple(shaped)


Handler = Callable[[FakeDiscord, list[str], web.Request, Any, list[bytes]], Awaitable[web.Response]]
_ROUTES: dict[tuple[str, tuple[str, ...]], Handler] = {}


def route(method: str, shape: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _ROUTES[(method, tuple(shape.split("/")))] = handler
        return handler
    return register


from tests.fakediscord import rest  # noqa: E402,F401  (registers the REST routes)
from tests.fakediscord.gateway import Gateway  # noqa: E402
