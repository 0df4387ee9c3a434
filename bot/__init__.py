"""arxiv-digest-bot: daily-arXiv-ai-enhanced digests in Discord."""

__version__ = "0.1.0"
