-- 0004: small segments of the full-text index kept whole in one row (storage/postgres/packed.py).
-- A day's segment as one row per token was ~10,000 rows a day, most of them a token of one
-- paper, each written again by every merge; FTS5 writes a day as a few pages. A segment whose
-- ids span at most search_ingest.PACK_MOST is now one row of search_packed: its terms (UTF-8,
-- ascending, joined by newlines), where each term's entries end (int32), and the entries, counts
-- and positions of every term one after the other (the arrays of search_postings). Searchers read
-- it once and keep it decoded. Re-indexing papers of a packed segment adds a row (part = the
-- segment's version after it): the entries it drops (int32, ascending) and the new ones, so a day
-- writes small rows and a searcher reads only the parts newer than its copy. Merges fold the
-- parts away. Bigger segments keep one row per token.
-- The index's existing segments are all of the old kind (packed = false) and stay valid as they
-- are: merges read either kind, so nothing is rebuilt.
ALTER TABLE search_segments ADD COLUMN packed BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE search_packed (
    seg       BIGINT NOT NULL REFERENCES search_segments (seg) ON DELETE CASCADE,
    part      INTEGER NOT NULL,           -- 0: the segment as written; n: its re-index to version n
    drops     BYTEA NOT NULL,             -- entries taken out of the parts before (empty for part 0)
    terms     BYTEA NOT NULL,
    ends      BYTEA NOT NULL,
    entries   BYTEA NOT NULL,
    counts    BYTEA NOT NULL,
    positions BYTEA NOT NULL,
    PRIMARY KEY (seg, part)
);
-- Uncompressed, as search_postings: read whole, and decompressing costs more than the bytes.
ALTER TABLE search_packed ALTER COLUMN drops SET STORAGE EXTERNAL,
                          ALTER COLUMN terms SET STORAGE EXTERNAL,
                          ALTER COLUMN ends SET STORAGE EXTERNAL,
                          ALTER COLUMN entries SET STORAGE EXTERNAL,
                          ALTER COLUMN counts SET STORAGE EXTERNAL,
                          ALTER COLUMN positions SET STORAGE EXTERNAL;
