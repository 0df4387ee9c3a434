"""/paper: one paper in full, by id, arXiv: reference or abs/pdf URL."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import NotFound
from bot.render.paper_controls import paper_buttons
from bot.render.papers import paper_embed
from commands.options import PaperIdText, arxiv_id_option, reply_locale, services_of


class PaperCommand(commands.Cog):
    """Open one stored paper."""

    @app_commands.command(name="paper", description="Show one paper in full: summaries, abstract and links")
    @app_commands.describe(id="An arXiv id or link: 2601.20911, 2601.20911v2, arXiv:2601.20911 or https://arxiv.org/abs/...")
    async def paper(self, interaction: discord.Interaction, id: PaperIdText) -> None:
        arxiv_id = arxiv_id_option(id)
        paper = await services_of(interaction).papers.get(arxiv_id)
        if paper is None:
            raise NotFound("Paper {id} is not in any stored digest. It may be on arXiv: https://arxiv.org/abs/{id}", id=arxiv_id)
        locale = await reply_locale(interaction)
        await interaction.response.send_message(embed=paper_embed(paper, locale), view=paper_buttons(paper.arxiv_id, locale=locale))


async def setup(bot: commands.Bot) -> None:
    """Load /paper."""
    await bot.add_cog(PaperCommand())
