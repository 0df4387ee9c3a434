"""Posting digests to channels and DMs, step by step through the delivery ledger."""
