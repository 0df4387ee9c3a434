"""Ingest: digest files (markdown, JSONL) parsed into papers, off the event loop, and stored in batches."""
