"""REST routes of the fake Discord. Each answers with what discord.py 2.7 needs, and enforces
Discord's message limits and permissions so a bot that breaks them fails here as it would there."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from tests.fakediscord.model import (
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Channel,
    Message,
    snowflake,
)
from tests.fakediscord.server import FakeDiscord, json_response, route


def _error(status: int, code: int, message: str) -> web.Response:
    return json_response({"message": message, "code": code}, status)


def limit_problems(body: dict[str, Any]) -> list[str]:
    """Every way a message body breaks Discord's limits (empty when it fits)."""
    problems = []
    content = body.get("content") or ""
    if len(content) > 2000:
        problems.append(f"content is {len(content)} characters (max 2000)")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds (max 10)")
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                problems.append(f"embed {index} {key} is {len(value)} characters (max {limit})")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append(f"embed {index} has {len(fields)} fields (max 25)")
        for field in fields:
            total += len(field.get("name", "")) + len(field.get("value", ""))
            if len(field.get("name", "")) > 256 or len(field.get("value", "")) > 1024:
                problems.append(f"embed {index} field too long")
            if not field.get("name") or not field.get("value"):
                problems.append(f"embed {index} has an empty field")
        url = embed.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://")) or any(c.isspace() for c in url)):
            problems.append(f"embed {index} url is not a valid URL: {str(url)[:60]!r}")
        footer = (embed.get("footer") or {}).get("text", "")
        author = (embed.get("author") or {}).get("name", "")
        total += len(footer) + len(author)
        if len(footer) > 2048 or len(author) > 256:
            problems.append(f"embed {index} footer or author too long")
    if total > 6000:
        problems.append(f"embeds total {total} characters (max 6000)")
    components = body.get("components") or []
    if len(components) > 5:
        problems.append(f"{len(components)} component rows (max 5)")
    for row in components:
        for component in row.get("components", []):
            if component.get("type") == 3:
                options = component.get("options", [])
                if not 1 <= len(options) <= 25:
                    problems.append(f"select menu with {len(options)} options")
                for option in options:
                    label, value = option.get("label") or "", option.get("value") or ""
                    if not 1 <= len(label) <= 100 or not 1 <= len(value) <= 100:
                        problems.append(f"select option label {label[:20]!r} or value must be 1 to 100 characters")
                    if "description" in option and option["description"] is not None and not 1 <= len(option["description"]) <= 100:
                        problems.append("select option description must be 1 to 100 characters")
            if len(component.get("label", "") or "") > 80:
                problems.append("button label over 80 characters")
    if not content and not embeds and not body.get("attachments") and not components:
        problems.append("empty message")
    return problems


def choice_problems(choices: list[dict[str, Any]]) -> list[str]:
    """Discord's limits on autocomplete answers: 25 choices, names of 1 to 100 characters, string values up to 100."""
    problems = [f"{len(choices)} choices (max 25)"] if len(choices) > 25 else []
    for choice in choices:
        name, value = choice.get("name") or "", choice.get("value")
        if not 1 <= len(name) <= 100:
            problems.append(f"choice name of {len(name)} characters")
        if isinstance(value, str) and not 1 <= len(value) <= 100:
            problems.append(f"choice value of {len(value)} characters")
    return problems


def _invalid(problems: list[str]) -> web.Response:
    return json_response({"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400)


def _attachments(files: list[bytes], body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Attachment objects for uploaded files, named as the body's `attachments` list names them."""
    names = {int(a["id"]): a.get("filename") for a in (body or {}).get("attachments") or [] if str(a.get("id", "")).isdigit()}
    found = []
    for i, data in enumerate(files):
        name = names.get(i) or f"file{i}.png"
        found.append({"id": str(snowflake()), "filename": name, "size": len(data), "url": f"https://cdn.fake/{i}/{name}",
                      "proxy_url": f"https://cdn.fake/{i}/{name}"})
    return found


async def _store(fake: FakeDiscord, message: Message) -> Message:
    fake.messages[message.id] = message
    fake.messages_by_channel.setdefault(message.channel_id, []).append(message)
    await fake._notify()
    return message


def _apply_edit(message: Message, body: dict[str, Any], files: list[bytes]) -> None:
    for key in ("content", "embeds", "components"):
        if key in body and body[key] is not None:
            setattr(message, key, body[key])
    if files:
        message.files = files
        message.attachments = _attachments(files, body)
    if "flags" in body and body["flags"] is not None:
        message.flags = body["flags"]
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    message.edits += 1


@route("GET", "users/@me")
async def get_me(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    if request.headers.get("Authorization", "") != f"Bot {fake.token}":
        return _error(401, 0, "401: Unauthorized")
    return json_response(fake.bot_user.payload())


@route("GET", "oauth2/applications/@me")
async def get_app(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    owner = fake.users.get(fake.app_owner_id or 0) or next(iter(fake.users.values()))
    return json_response({
        "id": str(fake.app_id), "name": "DigestBot", "description": "", "icon": None, "bot_public": True,
        "bot_require_code_grant": False, "owner": owner.payload(), "verify_key": "0" * 64, "flags": 0,
        "summary": "", "team": None, "rpc_origins": [],
    })


@route("GET", "gateway/bot")
async def gateway_bot(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    # Discord recommends a shard per 1,000 guilds.
    shards = fake.recommended_shards or max(1, -(-len(fake.guilds) // 1000))
    return json_response({"url": fake.gateway_url, "shards": shards, "session_start_limit": fake.gateway.session_start_limit()})


async def _sync(fake: FakeDiscord, scope: str, body: list[dict[str, Any]]) -> web.Response:
    registered = []
    for command in body or []:
        entry = dict(command)
        entry.update({"id": str(snowflake()), "application_id": str(fake.app_id), "version": "1"})
        entry.setdefault("description", "")
        if scope != "global":
            entry["guild_id"] = scope
        registered.append(entry)
    fake.commands[scope] = registered
    fake.commands_synced.set()
    return json_response(registered)


@route("PUT", "applications/{}/commands")
async def sync_global(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    return await _sync(fake, "global", body)


@route("PUT", "applications/{}/guilds/{}/commands")
async def sync_guild(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    return await _sync(fake, parts[3], body)


@route("GET", "applications/{}/commands")
async def get_global(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    return json_response(fake.commands.get("global", []))


@route("POST", "interactions/{}/{token}/callback")
async def callback(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    record = fake.interactions.get(int(parts[1]))
    if record is None or record.token != parts[2]:
        return _error(404, 10062, "Unknown interaction")
    if record.callback_type is not None:
        return _error(400, 40060, "Interaction has already been acknowledged.")
    kind = body["type"]
    data = body.get("data") or {}
    if kind in (4, 7):
        # An update (7) may carry only what changes: check it as if the rest were already there.
        problems = limit_problems(data) if kind == 4 else limit_problems({"content": "unchanged", **data})
        if problems:
            return _invalid(problems)
    if kind == 8:
        problems = choice_problems(data.get("choices") or [])
        if problems:
            return _invalid(problems)
    record.callback_type = kind
    record.answered_at = time.monotonic()
    record.callback_data = data
    message: Message | None = None
    if kind in (4, 5):
        message = Message(snowflake(), record.channel_id, fake.bot_user.id, flags=data.get("flags", 0) or 0,
                          interaction_id=record.id, webhook_id=fake.app_id, guild_id=record.guild_id)
        if kind == 4:
            _apply_edit(message, data, files)
            message.edits = 0
        else:
            message.flags |= 128  # loading
        record.original = await _store(fake, message)
    elif kind == 7:
        source = fake.messages[int(request.query.get("message_id", "0"))] if request.query.get("message_id") else None
        source = source or _component_message(fake, record.id)
        if source is not None:
            _apply_edit(source, data, files)
            record.original = source
            message = source
    record.changed.set()
    await fake._notify()
    interaction = {
        "id": str(record.id), "type": record.kind, "activity_instance_id": None,
        "response_message_id": str(message.id) if message else None,
        "response_message_loading": kind == 5, "response_message_ephemeral": bool(message and message.flags & 64),
    }
    resource: dict[str, Any] = {"type": kind}
    if message is not None:
        resource["message"] = message.payload(fake.users)
    return json_response({"interaction": interaction, "resource": resource})


def _component_message(fake: FakeDiscord, interaction_id: int) -> Message | None:
    return fake.clicked.get(interaction_id)


def _record_for_token(fake: FakeDiscord, token: str) -> Any:
    record = fake.by_token.get(token)
    if record is None:
        raise web.HTTPNotFound(text='{"message": "Unknown Webhook", "code": 10015}', content_type="application/json")
    return record


@route("POST", "webhooks/{}/{token}")
async def followup(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    record = _record_for_token(fake, parts[2])
    problems = limit_problems({**body, "attachments": _attachments(files, body)})
    if problems:
        return _invalid(problems)
    message = Message(snowflake(), record.channel_id, fake.bot_user.id, flags=body.get("flags", 0) or 0,
                      interaction_id=record.id, webhook_id=fake.app_id, guild_id=record.guild_id,
                      allowed_mentions=body.get("allowed_mentions"))
    _apply_edit(message, body, files)
    message.edits = 0
    record.followups.append(await _store(fake, message))
    record.changed.set()
    return json_response(message.payload(fake.users))


async def _original_or_404(fake: FakeDiscord, parts: list[str]) -> tuple[Any, Message | None]:
    record = _record_for_token(fake, parts[2])
    target = parts[4]
    if target == "@original":
        return record, record.original
    return record, fake.messages.get(int(target))


@route("PATCH", "webhooks/{}/{token}/messages/@original")
async def edit_original(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    record, message = await _original_or_404(fake, parts)
    if message is None:
        return _error(404, 10008, "Unknown Message")
    problems = limit_problems({"content": message.content, "embeds": message.embeds, "components": message.components, **body,
                               "attachments": _attachments(files, body) or message.attachments})
    if problems:
        return _invalid(problems)
    _apply_edit(message, body, files)
    message.flags &= ~128
    record.changed.set()
    await fake._notify()
    return json_response(message.payload(fake.users))


route("PATCH", "webhooks/{}/{token}/messages/{}")(edit_original)


@route("GET", "webhooks/{}/{token}/messages/@original")
async def get_original(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    _, message = await _original_or_404(fake, parts)
    if message is None:
        return _error(404, 10008, "Unknown Message")
    return json_response(message.payload(fake.users))


@route("DELETE", "webhooks/{}/{token}/messages/@original")
async def delete_original(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    _, message = await _original_or_404(fake, parts)
    if message is not None:
        message.deleted = True
    return web.Response(status=204)


def _channel_or_error(fake: FakeDiscord, channel_id: int, need: int) -> Channel | web.Response:
    channel = fake.channels.get(channel_id)
    if channel is None or channel.deleted:
        return _error(404, 10003, "Unknown Channel")
    if channel.type == 1:
        user = fake.users[channel.recipient_id or 0]
        if user.dms_closed:
            return _error(403, 50007, "Cannot send messages to this user")
        return channel
    guild = fake.guilds[channel.guild_id or 0]
    perms = guild.channel_permissions(fake.bot_user.id, channel)
    if not perms & VIEW_CHANNEL:
        return _error(403, 50001, "Missing Access")
    if need and (perms & need) != need:
        return _error(403, 50013, "Missing Permissions")
    return channel


@route("GET", "channels/{}")
async def get_channel(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    channel = _channel_or_error(fake, int(parts[1]), 0)
    if isinstance(channel, web.Response):
        return channel
    return json_response(channel.payload(fake.users))


@route("POST", "channels/{}/messages")
async def create_message(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    channel_id = int(parts[1])
    target = fake.channels.get(channel_id)
    need = SEND_MESSAGES_IN_THREADS if target is not None and target.type == 11 else SEND_MESSAGES
    if body and body.get("embeds"):
        need |= EMBED_LINKS
    channel = _channel_or_error(fake, channel_id, need)
    if isinstance(channel, web.Response):
        return channel
    problems = limit_problems({**(body or {}), "attachments": _attachments(files, body)})
    if problems:
        return _invalid(problems)
    nonce = str(body["nonce"]) if body.get("nonce") is not None else None
    if nonce is not None and body.get("enforce_nonce"):
        # Discord returns the earlier message instead of posting the same nonce twice.
        for earlier in fake.messages_by_channel.get(channel.id, []):
            if earlier.nonce == nonce and not earlier.deleted:
                fake.duplicate_nonces += 1
                return json_response(earlier.payload(fake.users))
    message = Message(snowflake(), channel.id, fake.bot_user.id, allowed_mentions=body.get("allowed_mentions"),
                      flags=body.get("flags", 0) or 0, guild_id=channel.guild_id, nonce=nonce)
    _apply_edit(message, body, files)
    message.edits = 0
    await _store(fake, message)
    return json_response(message.payload(fake.users))


@route("GET", "channels/{}/messages")
async def history(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    channel = _channel_or_error(fake, int(parts[1]), READ_MESSAGE_HISTORY)
    if isinstance(channel, web.Response):
        return channel
    limit = min(100, int(request.query.get("limit", "50")))
    before = int(request.query["before"]) if "before" in request.query else None
    found = sorted(
        (m for m in fake.messages_by_channel.get(channel.id, []) if not m.deleted and m.interaction_id is None
         and (before is None or m.id < before)),
        key=lambda m: m.id, reverse=True,
    )[:limit]
    return json_response([m.payload(fake.users) for m in found])


@route("GET", "channels/{}/messages/{}")
async def get_message(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    message = fake.messages.get(int(parts[3]))
    if message is None or message.deleted or message.channel_id != int(parts[1]):
        return _error(404, 10008, "Unknown Message")
    return json_response(message.payload(fake.users))


@route("PATCH", "channels/{}/messages/{}")
async def edit_message(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    message = fake.messages.get(int(parts[3]))
    if message is None or message.deleted:
        return _error(404, 10008, "Unknown Message")
    problems = limit_problems({"content": message.content, "embeds": message.embeds, **body})
    if problems:
        return _invalid(problems)
    _apply_edit(message, body, files)
    await fake._notify()
    return json_response(message.payload(fake.users))


@route("DELETE", "channels/{}/messages/{}")
async def delete_message(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    message = fake.messages.get(int(parts[3]))
    if message is not None:
        message.deleted = True
    return web.Response(status=204)


async def _create_thread(fake: FakeDiscord, parent_id: int, name: str, starter: Message | None) -> web.Response:
    parent = _channel_or_error(fake, parent_id, CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS)
    if isinstance(parent, web.Response):
        return parent
    if starter is not None and starter.thread_id is not None:
        return _error(400, 160004, "A thread has already been created for this message")
    if not name or len(name) > 100:
        return _invalid([f"thread name of {len(name)} characters"])
    thread = Channel(snowflake(), name, type=11, guild_id=parent.guild_id, parent_id=parent.id, owner_id=fake.bot_user.id,
                     starter_message_id=starter.id if starter else None)
    fake.channels[thread.id] = thread
    if parent.guild_id is not None:
        fake.guilds[parent.guild_id].channels[thread.id] = thread
    if starter is not None:
        starter.thread_id = thread.id
    await fake._notify()
    return json_response(thread.payload(fake.users), 201)


@route("POST", "channels/{}/messages/{}/threads")
async def thread_from_message(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    starter = fake.messages.get(int(parts[3]))
    if starter is None or starter.deleted:
        return _error(404, 10008, "Unknown Message")
    return await _create_thread(fake, int(parts[1]), (body or {}).get("name", ""), starter)


@route("POST", "channels/{}/threads")
async def thread_without_message(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    target = fake.channels.get(int(parts[1]))
    if target is not None and target.type == 15:
        return await _forum_post(fake, target, body or {}, files)
    return await _create_thread(fake, int(parts[1]), (body or {}).get("name", ""), None)


async def _forum_post(fake: FakeDiscord, forum: Channel, body: dict[str, Any], files: list[bytes]) -> web.Response:
    """A forum post: a thread and its first message (whose id is the thread's), as Discord creates them."""
    first = body.get("message")
    if not isinstance(first, dict) or not (first.get("content") or first.get("embeds")):
        return _invalid(["a forum post needs a message with content or embeds"])
    need = SEND_MESSAGES | (EMBED_LINKS if first.get("embeds") else 0)
    checked = _channel_or_error(fake, forum.id, need)
    if isinstance(checked, web.Response):
        return checked
    name = str(body.get("name", ""))
    if not name or len(name) > 100:
        return _invalid([f"thread name of {len(name)} characters"])
    known = {int(t["id"]) for t in forum.available_tags}
    tags = [int(t) for t in body.get("applied_tags") or []]
    if len(tags) > 5 or not set(tags) <= known:
        return _invalid([f"applied_tags {tags} are not tags of the forum (or more than 5)"])
    problems = limit_problems({**first, "attachments": _attachments(files, first)})
    if problems:
        return _invalid(problems)
    thread_id = snowflake()
    thread = Channel(thread_id, name, type=11, guild_id=forum.guild_id, parent_id=forum.id, owner_id=fake.bot_user.id,
                     starter_message_id=thread_id, applied_tags=tags)
    fake.channels[thread.id] = thread
    if forum.guild_id is not None:
        fake.guilds[forum.guild_id].channels[thread.id] = thread
    message = Message(thread_id, thread.id, fake.bot_user.id, allowed_mentions=first.get("allowed_mentions"),
                      flags=first.get("flags", 0) or 0, guild_id=forum.guild_id)
    _apply_edit(message, first, files)
    message.edits = 0
    await _store(fake, message)
    return json_response({**thread.payload(fake.users), "message": message.payload(fake.users)}, 201)


@route("GET", "guilds/{}/threads/active")
async def active_threads(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    guild = fake.guilds.get(int(parts[1]))
    if guild is None:
        return _error(404, 10004, "Unknown Guild")
    threads = [c.payload(fake.users) for c in guild.channels.values() if c.type == 11 and not c.deleted]
    return json_response({"threads": threads, "members": []})


@route("POST", "users/@me/channels")
async def open_dm(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    user = fake.users.get(int(body["recipient_id"]))
    if user is None:
        return _error(400, 50033, "Invalid Recipient(s)")
    return json_response(fake.dm_channel(user).payload(fake.users))


@route("GET", "users/{}")
async def get_user(fake: FakeDiscord, parts: list[str], request: web.Request, body: Any, files: list[bytes]) -> web.Response:
    user = fake.users.get(int(parts[1]))
    if user is None:
        return _error(404, 10013, "Unknown User")
    return json_response(user.payload())
