"""The source the settings name."""

from __future__ import annotations

import logging

from bot.core.settings import Settings
from bot.ingest.digest import DigestLimits
from bot.sources.base import DigestSource
from bot.sources.folder import LocalFolderSource
from bot.sources.remote import RemoteBranchSource
from storage.sources import SourceStateStore

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)


def build_source(settings: Settings, state: SourceStateStore) -> DigestSource | None:
    """The source the settings name: DIGESTBOT_SOURCE_DIR wins over DIGESTBOT_SOURCE_URL; None when both are off."""
    limits = DigestLimits(max_bytes=settings.max_digest_bytes, max_papers=settings.max_papers_per_digest)
    if settings.source_dir is not None:
        return LocalFolderSource(settings.source_dir, limits)
    if settings.source_url:
        return RemoteBranchSource(settings.source_url, settings.source_language, state,
                                  backoff=settings.source_retry_seconds, limits=limits,
                                  catch_up_per_poll=settings.catch_up_days_per_poll,
                                  redirect_hosts=settings.source_redirect_hosts)
    return None
