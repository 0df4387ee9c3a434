-- 0003: personal subscriptions (category, keyword, author) and each user's DM settings.
-- value_key is the folded form used for matching and for merging duplicates; value is as typed.

CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('category', 'keyword', 'author')),
    value      TEXT NOT NULL,
    value_key  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, kind, value_key)
);
CREATE INDEX subscriptions_key ON subscriptions(kind, value_key);

CREATE TABLE user_settings (
    user_id           INTEGER PRIMARY KEY,
    post_time         TEXT NOT NULL DEFAULT '09:00',
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    paused            INTEGER NOT NULL DEFAULT 0,
    dm_failing_reason TEXT,                      -- set when Discord refuses a DM (closed DMs)
    dm_failing_since  TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- Bumped on every subscription change, so matches cached per digest know when to recompute.
INSERT INTO meta (key, value) VALUES ('subscriptions_version', '0');
