"""/similar: the stored papers most like one paper (TF-IDF cosine), 5 a page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import NotFound
from bot.i18n.catalogs import t
from bot.render.text import escape_markdown, one_line
from bot.worker import tasks
from commands.foryou import RankedView
from commands.options import (
    PaperIdText,
    arxiv_id_option,
    per_user_cooldown,
    reply_locale,
    services_of,
)
from commands.respond import in_time

if TYPE_CHECKING:
    from bot.app.client import DigestBot



class Similar(commands.Cog):
    """Papers like a given one."""

    @app_commands.command(name="similar", description="Stored papers most similar to one paper")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.describe(id="An arXiv id or link: 2601.20911, arXiv:2601.20911 or https://arxiv.org/abs/...")
    @per_user_cooldown(6, 60)
    async def similar(self, interaction: discord.Interaction, id: PaperIdText) -> None:
        arxiv_id = arxiv_id_option(id)
        services = services_of(interaction)
        paper = await services.papers.get(arxiv_id)
        if paper is None:
            raise NotFound("Paper {id} is not in any stored digest, so I cannot compare it.", id=arxiv_id)
        bot: DigestBot = interaction.client  # type: ignore[assignment]
        locale = await reply_locale(interaction)
        ranked = await in_time(interaction, bot.worker.run(interaction.user.id, tasks.similar, arxiv_id, locale), ephemeral=False)
        if not ranked:
            raise NotFound("No stored paper is close to {id}.", id=arxiv_id)
        intro = t("**{count} papers** most like {paper}", locale, count=len(ranked),
                  paper=f"[{escape_markdown(one_line(paper.title, 120))}](https://arxiv.org/abs/{arxiv_id})")
        view = RankedView(interaction.user, t("Similar papers", locale), intro, ranked,
                          t("by shared words, categories and authors", locale), locale)
        await view.send(interaction, view.first_page())


async def setup(bot: commands.Bot) -> None:
    """Load /similar."""
    await bot.add_cog(Similar())
