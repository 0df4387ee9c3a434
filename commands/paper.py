"""/paper: one paper in full, by id, arXiv: reference or abs/pdf URL."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInput, NotFound
from bot.ingest.paper import normalize_arxiv_id
from bot.render.papers import paper_embed
from bot.render.text import escape_markdown, one_line
from commands.options import BoundedText, reply_locale, services_of
from commands.paper_actions import paper_buttons

IdText = app_commands.Transform[str, BoundedText("The paper id", 200)]


class PaperCommand(commands.Cog):
    """Open one stored paper."""

    @app_commands.command(name="paper", description="Show one paper in full: summaries, abstract and links")
    @app_commands.describe(id="An arXiv id or link: 2601.20911, 2601.20911v2, arXiv:2601.20911 or https://arxiv.org/abs/...")
    async def paper(self, interaction: discord.Interaction, id: IdText) -> None:
        arxiv_id = normalize_arxiv_id(id)
        if arxiv_id is None:
            raise InvalidInput(
                "`{value}` is not an arXiv id. Use a form like 2601.20911, arXiv:2601.20911 or https://arxiv.org/abs/2601.20911.",
                value=escape_markdown(one_line(id, 60)),
            )
        paper = await services_of(interaction).papers.get(arxiv_id)
        if paper is None:
            raise NotFound("Paper {id} is not in any stored digest. It may be on arXiv: https://arxiv.org/abs/{id}", id=arxiv_id)
        locale = await reply_locale(interaction)
        await interaction.response.send_message(embed=paper_embed(paper, locale), view=paper_buttons(paper.arxiv_id, locale=locale))


async def setup(bot: commands.Bot) -> None:
    """Load /paper."""
    await bot.add_cog(PaperCommand())
