-- 0002: channel feeds, the delivery ledger, and what the digest source last answered.
-- A delivery is one (target, digest): the ledger row records how far the post got (header,
-- thread, parts) so that a crash or a failure resumes where it stopped instead of posting twice.

CREATE TABLE channel_feeds (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL UNIQUE,            -- one feed per channel
    categories     TEXT NOT NULL DEFAULT '[]',         -- JSON list; empty = every category
    post_time      TEXT NOT NULL DEFAULT '09:00',      -- HH:MM local time
    timezone       TEXT NOT NULL DEFAULT 'UTC',        -- IANA zone
    paused         INTEGER NOT NULL DEFAULT 0,
    failing_reason TEXT,                               -- set on 403/404; cleared by /feed resume
    failing_since  TEXT,
    created_by     INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX channel_feeds_guild ON channel_feeds(guild_id);

CREATE TABLE deliveries (
    id                INTEGER PRIMARY KEY,
    target_kind       TEXT NOT NULL CHECK (target_kind IN ('channel', 'dm')),
    target_id         INTEGER NOT NULL,                -- channel_feeds.id, or a Discord user id
    digest_id         INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    state             TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'sending', 'done', 'failed', 'skipped')),
    header_message_id INTEGER,
    thread_id         INTEGER,
    parts_total       INTEGER NOT NULL DEFAULT 0,
    parts_sent        INTEGER NOT NULL DEFAULT 0,
    message_ids       TEXT NOT NULL DEFAULT '[]',      -- JSON list of every message id sent
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT,
    next_attempt_at   TEXT,                            -- UTC ISO; retry with backoff after 5xx
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (target_kind, target_id, digest_id)
);
CREATE INDEX deliveries_open ON deliveries(state) WHERE state IN ('pending', 'sending');

CREATE TABLE source_fetches (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    status        INTEGER NOT NULL,
    content_hash  TEXT,
    fetched_at    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE poll_runs (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    ok           INTEGER NOT NULL,
    new_digests  INTEGER NOT NULL DEFAULT 0,
    summary      TEXT NOT NULL
);
