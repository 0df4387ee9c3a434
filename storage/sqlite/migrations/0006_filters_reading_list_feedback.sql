-- 0006: feed filters and forum feeds, exclude subscriptions, each member's reading list, feedback and model.

-- Keyword filters of a feed, in the /search query language, comma separated: `include` keeps only
-- papers matching one of them, `exclude` drops papers matching any. Empty = no filter.
ALTER TABLE channel_feeds ADD COLUMN include_filter TEXT NOT NULL DEFAULT '';
ALTER TABLE channel_feeds ADD COLUMN exclude_filter TEXT NOT NULL DEFAULT '';
-- A feed posts in a text channel (header + thread) or a forum (one post per day).
ALTER TABLE channel_feeds ADD COLUMN channel_type TEXT NOT NULL DEFAULT 'text' CHECK (channel_type IN ('text', 'forum'));
-- The language of a feed's posts (the text around the papers; papers are shown as written).
ALTER TABLE channel_feeds ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh-CN', 'zh-TW'));

-- A subscription of kind 'exclude' takes papers away: one that matches never reaches the member,
-- whatever else it matches. SQLite cannot change a CHECK in place, so the table is rebuilt.
CREATE TABLE subscriptions_v6 (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('category', 'keyword', 'author', 'exclude')),
    value      TEXT NOT NULL,
    value_key  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, kind, value_key)
);
INSERT INTO subscriptions_v6 (id, user_id, kind, value, value_key, created_at)
    SELECT id, user_id, kind, value, value_key, created_at FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_v6 RENAME TO subscriptions;
CREATE INDEX subscriptions_key ON subscriptions(kind, value_key);

-- A member's reading list. Papers are named by arXiv id, so a list survives a paper's row changing.
CREATE TABLE saved_papers (
    user_id  INTEGER NOT NULL,
    arxiv_id TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (user_id, arxiv_id)
) WITHOUT ROWID;
CREATE INDEX saved_papers_recent ON saved_papers(user_id, saved_at DESC);

-- The language a member chose with /language (zh-CN, zh-TW or en); absent = their Discord's.
CREATE TABLE member_languages (
    user_id  INTEGER PRIMARY KEY,
    language TEXT NOT NULL CHECK (language IN ('en', 'zh-CN', 'zh-TW'))
);

-- Thumbs up (1) or down (-1), the latest vote per paper.
CREATE TABLE feedback (
    user_id  INTEGER NOT NULL,
    arxiv_id TEXT NOT NULL,
    vote     INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, arxiv_id)
) WITHOUT ROWID;

-- Each member's ranking model: the non-zero weights of a linear model over hashed TF-IDF features
-- (feature indexes int32 and weights float32, little-endian), retrained when the member's
-- feedback, reading list or subscriptions changed.
CREATE TABLE member_models (
    user_id    INTEGER PRIMARY KEY,
    features   BLOB NOT NULL,
    weights    BLOB NOT NULL,
    intercept  REAL NOT NULL,
    positives  INTEGER NOT NULL,
    negatives  INTEGER NOT NULL,
    trained_at TEXT NOT NULL
);
-- Members whose model must be (re)trained; filled by every change to what the model learns from.
-- `changes` counts the changes, so a training that read the member's feedback before a change
-- clears only the mark it saw, never one made while it ran.
CREATE TABLE member_models_stale (
    user_id INTEGER PRIMARY KEY,
    since   TEXT NOT NULL,
    changes INTEGER NOT NULL DEFAULT 1
);
