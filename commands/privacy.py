"""/forget me: delete everything the bot stores about the member, after a confirming button."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n.catalogs import ENGLISH, N_, t
from commands.options import reply_locale, services_of
from commands.paging import OwnedView
from commands.respond import in_time, update_message
from storage.members import MemberStore

CONFIRM_SECONDS = 120.0
# What MemberStore.forget reports deleting, as members read it.
DELETED_NAMES = {"subscriptions": N_("subscriptions"), "settings": N_("settings"), "saved papers": N_("saved papers"),
                 "feedback": N_("feedback"), "model": N_("model"), "pending model": N_("pending model"),
                 "language": N_("language"), "DM records": N_("DM records"),
                 "feeds set up": N_("feeds set up by you (they keep posting; their alerts now go to the server)")}
# What no command of the bot can delete, said truly in the confirmation and the reply.
OUT_OF_REACH = N_("Outside my reach: messages already sent (your DMs, posts in channels; delete them in Discord), copies of "
                  "the database the operator made earlier (backups), and the operator's log lines, which may name your user id.")


class ForgetView(OwnedView):
    """Delete / Keep, for the member who asked only."""

    def __init__(self, owner: discord.abc.User, locale: str = ENGLISH) -> None:
        super().__init__(owner, timeout=CONFIRM_SECONDS)
        self.locale = locale
        self.delete.label = t("Delete everything", locale)
        self.keep.label = t("Keep my data", locale)

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def delete(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        store = MemberStore(services_of(interaction).db)
        deleted = await in_time(interaction, store.forget(interaction.user.id), update=True)
        bot = interaction.client
        deliveries = getattr(bot, "dm_deliveries", None)
        if deliveries is not None:
            deliveries.failing.discard(interaction.user.id)
            deliveries.cleared.pop(interaction.user.id, None)
        gone = ", ".join(f"{count} {t(DELETED_NAMES.get(label, label), self.locale)}" for label, count in deleted.items() if count)
        self.stop()
        done = t("Done. Deleted: {what}. The bot's database holds nothing else about you.", self.locale,
                 what=gone or t("nothing (nothing was stored)", self.locale))
        await update_message(interaction, content=f"{done}\n{t(OUT_OF_REACH, self.locale)}", view=discord.ui.View())

    @discord.ui.button(label="Keep my data", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.stop()
        await update_message(interaction, content=t("Nothing was deleted.", self.locale), view=discord.ui.View())


class Privacy(commands.Cog):
    """What the bot keeps about a member, and deleting it."""

    forget = app_commands.Group(name="forget", description="Delete what the bot stores about you",
                                allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True))

    @forget.command(name="me", description="Delete your subscriptions, settings, reading list, feedback and ranking model")
    async def me(self, interaction: discord.Interaction) -> None:
        locale = await reply_locale(interaction)
        view = ForgetView(interaction.user, locale)
        await interaction.response.send_message(
            t("This deletes everything I store about you: your subscriptions and DM settings, your reading list, your 👍 / 👎 "
              "and your ranking model, and the records of DMs sent to you; feeds you set up stop naming you. It cannot be "
              "undone (export your list first with /saved export:bibtex).", locale) + "\n" + t(OUT_OF_REACH, locale),
            view=view, ephemeral=True,
        )
        view.origin = interaction


async def setup(bot: commands.Bot) -> None:
    """Load /forget."""
    await bot.add_cog(Privacy())
