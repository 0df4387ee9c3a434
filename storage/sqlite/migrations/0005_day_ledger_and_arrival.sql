-- 0005: a day's files are remembered per day, digests know how they arrived, URLs are cleaned.
--
-- digest_files was keyed by content hash alone, so a file whose bytes equal another day's file
-- (the pipeline republishes a day unchanged now and then) was taken as "already ingested" and
-- its own day was never stored. It is now keyed by (day, content): a day's result never depends
-- on what other days hold or on the order files arrive in.
CREATE TABLE digest_files_by_day (
    digest_id    INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL,                   -- sha256 of the file bytes
    source       TEXT NOT NULL,                   -- file path or URL, credentials removed
    format       TEXT NOT NULL,
    paper_count  INTEGER NOT NULL,
    ingested_at  TEXT NOT NULL,
    PRIMARY KEY (digest_id, content_hash)
) WITHOUT ROWID;
INSERT INTO digest_files_by_day (digest_id, content_hash, source, format, paper_count, ingested_at)
    SELECT digest_id, content_hash, redact_url(source), format, paper_count, ingested_at FROM digest_files;
DROP TABLE digest_files;
ALTER TABLE digest_files_by_day RENAME TO digest_files;

-- How the day first arrived: 'poll' (the scheduler found it: news, posted to feeds and DMs),
-- 'backfill' or 'ingest' (an operator loaded old days: stored and searchable, never posted).
-- Days stored before this migration came through polls or were posted already.
ALTER TABLE digests ADD COLUMN arrival TEXT NOT NULL DEFAULT 'poll'
    CHECK (arrival IN ('poll', 'backfill', 'ingest'));
UPDATE digests SET source = redact_url(source);

-- Which file's text a paper holds: day number * 4 + format rank (raw JSONL 0, markdown 1,
-- AI JSONL 2). A file of lower rank only fills fields that are still empty, so a day's papers
-- read the same whatever order its files arrived in.
ALTER TABLE papers ADD COLUMN source_rank INTEGER NOT NULL DEFAULT 0;
-- Links to arXiv are built from the validated id; links written in digest data are not trusted.
UPDATE papers SET abs_url = '', pdf_url = '';

CREATE TABLE source_fetches_clean (
    url           TEXT PRIMARY KEY,               -- credentials removed
    etag          TEXT,
    last_modified TEXT,
    status        INTEGER NOT NULL,
    content_hash  TEXT,
    fetched_at    TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR REPLACE INTO source_fetches_clean SELECT redact_url(url), etag, last_modified, status, content_hash, fetched_at
    FROM source_fetches;
DROP TABLE source_fetches;
ALTER TABLE source_fetches_clean RENAME TO source_fetches;

-- A poll that worked but found the source suspicious (nothing for a week) says why here.
ALTER TABLE poll_runs ADD COLUMN warning TEXT;

INSERT OR IGNORE INTO meta (key, value)
    VALUES ('created_at', coalesce((SELECT min(ingested_at) FROM digests), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')));
