"""Telling people when something breaks: a feed's creator when Discord refuses its channel, the operator
when the digest source has been failing for a day.

Each alert is sent once per breakage: a feed's when it turns failing (it stays failing, and
silent, until someone runs /feed resume), the source's once per stretch of failed polls (the
stretch is named by its last successful poll, remembered in the meta table). An alert that
cannot be delivered is logged and never retried: alerts must not become a new failure.
"""

from __future__ import annotations

import datetime as dt
import logging

import discord

from bot.core.services import Services
from storage.errors import StorageError
from storage.feeds import ChannelFeed
from storage.meta import MetaStore
from storage.sources import PollRun

log = logging.getLogger(__name__)

_SOURCE_ALERT_KEY = "source_alert_sent_for"
_NO_MENTIONS = discord.AllowedMentions.none()


def feed_fix(reason: str) -> str:
    """What to do about a refused channel, in a sentence."""
    if "Unknown Channel" in reason or "404" in reason or "deleted" in reason:
        return "The channel seems to be gone: add a feed to another channel with /feed add, and /feed remove this one."
    return ("Give my role View Channel, Send Messages, Embed Links, Create Public Threads and Send Messages in Threads "
            "in that channel (Edit Channel > Permissions), then run /feed resume there.")


class Alerts:
    """Sends the alerts; needs the Discord client (for DMs and system channels)."""

    def __init__(self, client: discord.Client, services: Services) -> None:
        self.client = client
        self.services = services

    async def _dm(self, user_id: int, text: str) -> bool:
        try:
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            await user.send(text, allowed_mentions=_NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not DM user %d an alert (%s %s); it is in the log and /status only", user_id, exc.status, exc.text)
            return False
        return True

    async def feed_failing(self, feed: ChannelFeed, reason: str) -> None:
        """A feed just turned failing: tell whoever set it up, and the server's system channel if the bot may post there.

        A feed whose creator left the bot (/forget me) or is unknown tells the system channel, or,
        when the bot cannot post there, the server's owner by DM.
        """
        guild = await self._guild(feed.guild_id)
        where = f"<#{feed.channel_id}>" + (f" in **{discord.utils.escape_markdown(guild.name)}**" if guild else "")
        text = (f"The arXiv digest feed of {where} has stopped: Discord refused the post ({reason}). "
                f"{feed_fix(reason)} `/feed list` shows the state of every feed.")
        sent = []
        if feed.created_by and await self._dm(feed.created_by, text):
            sent.append(f"DM to user {feed.created_by}")
        # discord.py keeps the id only privately; a server fetched over REST has no channels to look it up in.
        system_id: int | None = guild._system_channel_id if guild is not None else None
        if guild is not None and system_id is not None and system_id != feed.channel_id:
            cached = guild.get_channel(system_id)
            channel: discord.TextChannel | discord.PartialMessageable = (
                cached if isinstance(cached, discord.TextChannel)
                else self.client.get_partial_messageable(system_id, guild_id=guild.id))
            me = guild.me
            # Checked where the server is cached (this process runs its shard); elsewhere Discord's 403 says it.
            if not isinstance(channel, discord.TextChannel) or me is None or channel.permissions_for(me).send_messages:
                try:
                    await channel.send(text, allowed_mentions=_NO_MENTIONS)
                    sent.append(f"system channel {channel.id}")
                except discord.HTTPException as exc:
                    log.warning("could not post the failing-feed alert in system channel %d: %s", channel.id, exc.status)
        if not sent and guild is not None and guild.owner_id and guild.owner_id != feed.created_by \
                and await self._dm(guild.owner_id, text):
            sent.append(f"DM to the server's owner {guild.owner_id}")
        log.info("feed %d (channel %d) turned failing; told: %s", feed.id, feed.channel_id, ", ".join(sent) or "nobody (no DM possible)")

    async def _guild(self, guild_id: int) -> discord.Guild | None:
        """The server: cached by the process running its shard, else asked of Discord (another process posted)."""
        guild = self.client.get_guild(guild_id)
        if guild is not None:
            return guild
        try:
            return await self.client.fetch_guild(guild_id)
        except discord.HTTPException as exc:
            log.warning("could not read server %d (HTTP %s) to tell it of a failing feed", guild_id, exc.status)
            return None

    async def owner_id(self) -> int | None:
        """DIGESTBOT_OWNER_ID, or the application's owner (the team's owner for a team application)."""
        if self.services.settings.owner_id:
            return self.services.settings.owner_id
        try:
            info = await self.client.application_info()
        except discord.HTTPException:
            return None
        if info.team is not None:
            return info.team.owner_id
        return info.owner.id if info.owner else None

    async def after_poll(self, run: PollRun) -> None:
        """After each poll: when the source has failed for DIGESTBOT_SOURCE_ALERT_HOURS, DM the operator once."""
        if run.ok:
            return
        services = self.services
        last_good = await services.source_state.last_poll(ok_only=True)
        since = last_good.finished_at if last_good is not None else await services.source_state.first_poll_at()
        if since is None:
            return
        hours = services.settings.source_alert_hours
        if run.finished_at - since < dt.timedelta(hours=hours):
            return
        meta = MetaStore(services.db)
        stretch = since.isoformat()
        if await meta.get(_SOURCE_ALERT_KEY) == stretch:
            return  # already told about this stretch of failures
        owner = await self.owner_id()
        try:
            await meta.set(_SOURCE_ALERT_KEY, stretch)
        except StorageError as exc:
            # Remembering the alert comes first, or every poll would send it again: try at a later poll.
            log.debug("source alert put off until the database can record it (%s)", type(exc).__name__)
            return
        if owner is None:
            log.warning("the source has failed for %d hours but no owner is known to tell; set DIGESTBOT_OWNER_ID", hours)
            return
        last = "never" if last_good is None else f"<t:{int(since.timestamp())}:f>"
        text = (f"arxiv-digest-bot: polls have failed for more than {hours:g} hours (last success: {last}). "
                f"Latest poll: {run.warning or run.summary}. Check `digestbot status`, and DIGESTBOT_SOURCE_URL "
                "(`digestbot config`) when the source is what fails; the bot keeps polling.")
        if await self._dm(owner, text):
            log.warning("the source has failed for %g hours; told the operator (user %d) by DM", hours, owner)
