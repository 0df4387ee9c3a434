"""`digestbot search QUERY ...` and `digestbot stats`."""

from __future__ import annotations

import argparse
import sys

from bot.core.arxiv_categories import category_name
from bot.core.dates import parse_day
from bot.core.settings import Settings
from bot.render.text import one_line
from storage.engine import open_database
from storage.fts_query import EmptyQuery, QueryTooComplex, build_match
from storage.papers import PaperStore
from storage.search import SearchFilters, search_index


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the search and stats commands."""
    search = sub.add_parser(
        "search",
        help="search every stored paper (English and Chinese)",
        description='Full-text search over titles, authors, TL;DRs and abstracts, best match first. '
        'Words must all appear; "quoted phrase", prefix*, a OR b and -exclude are understood; '
        "anything else is searched as plain text.",
    )
    search.add_argument("query", nargs="+", help="words to look for")
    search.add_argument("--category", help="only papers in this category (primary or cross-listed), e.g. cs.CV")
    search.add_argument("--author", help="only papers with this author (case and accents ignored)")
    search.add_argument("--since", help="only papers in digests on or after this date (YYYY-MM-DD)")
    search.add_argument("--until", help="only papers in digests on or before this date (YYYY-MM-DD)")
    search.add_argument("--limit", type=int, default=10, help="how many results to print (default 10)")
    search.set_defaults(handler=run_search)

    stats = sub.add_parser("stats", help="count digests, papers and papers per category", description="Print what the database holds.")
    stats.set_defaults(handler=run_stats)


async def run_search(args: argparse.Namespace, settings: Settings) -> int:
    """Print ranked search results."""
    if args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2
    filters = SearchFilters(
        category=args.category,
        author=args.author,
        since=parse_day(args.since) if args.since else None,
        until=parse_day(args.until) if args.until else None,
    )
    text = " ".join(args.query)
    try:
        build_match(text, author=filters.author, category=filters.category)
    except EmptyQuery:
        print("the query holds no words to search for", file=sys.stderr)
        return 2
    except QueryTooComplex as exc:
        print(exc.message, file=sys.stderr)
        return 2
    db = await open_database(settings.database, create=False)
    try:
        page = await search_index(db).search(text, filters, limit=args.limit)
    finally:
        await db.close()
    if not page.papers:
        print(f"no papers match {text!r}")
        return 0
    print(f"{page.total} papers match {text!r}; best {len(page.papers)}:")
    for paper in page.papers:
        print(f"{paper.arxiv_id:<12} {paper.last_seen}  {paper.primary_category:<8} {one_line(paper.title, 90)}")
        if paper.tldr:
            print(f"{'':<12} {one_line(paper.tldr, 110)}")
    return 0


async def run_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print corpus counts."""
    db = await open_database(settings.database, create=False)
    try:
        stats = await PaperStore(db).stats()
    finally:
        await db.close()
    print(f"database:  {settings.database_name}")
    print(f"digests:   {stats.digests}")
    print(f"papers:    {stats.papers}")
    if stats.first_date:
        print(f"dates:     {stats.first_date} to {stats.last_date}")
    if stats.per_category:
        print("papers per primary category:")
        for category, count in stats.per_category:
            print(f"  {category:<16} {count:>7}  {category_name(category)}")
    return 0
