-- 0002: the full-text index of the PostgreSQL engine (storage/postgres/search_index.py).
-- It holds what the SQLite engine's FTS5 table papers_fts holds, token for token: for each index
-- token and each segment (a run of paper ids), the entries (paper id * 8 + column), their counts
-- and their positions, as little-endian arrays (storage/postgres/postings.py). Searches read only
-- the rows of the query's tokens and rank every match by FTS5's bm25 from them.

-- A segment: the papers with ids low..high. New papers make a new segment; small segments are
-- merged by levels (8 of a level make one of the next), so a daily ingest writes few rows.
CREATE TABLE search_segments (
    seg     BIGINT PRIMARY KEY,
    low     BIGINT NOT NULL,
    high    BIGINT NOT NULL,
    papers  INTEGER NOT NULL,          -- papers indexed in low..high (FTS5's xRowCount, summed)
    tokens  BIGINT NOT NULL,           -- their tokens in all columns (FTS5's xColumnTotalSize(-1), summed)
    level   INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0, -- bumped when `lengths` changes (searchers cache it)
    lengths BYTEA NOT NULL             -- int32 per id low..high: that paper's tokens, 0 when not indexed
);
CREATE INDEX search_segments_low ON search_segments (low);

CREATE TABLE search_postings (
    term      TEXT COLLATE "C" NOT NULL, -- byte order, so a prefix is one range of the primary key
    seg       BIGINT NOT NULL,
    entries   BYTEA NOT NULL,            -- int32 per entry, ascending
    counts    BYTEA NOT NULL,            -- uint16 per entry
    positions BYTEA NOT NULL,            -- uint16 per occurrence, entry after entry
    PRIMARY KEY (term, seg)
);
CREATE INDEX search_postings_seg ON search_postings (seg);
-- Kept uncompressed: a search reads whole arrays, and decompressing costs more than the bytes.
ALTER TABLE search_postings ALTER COLUMN entries SET STORAGE EXTERNAL,
                            ALTER COLUMN counts SET STORAGE EXTERNAL,
                            ALTER COLUMN positions SET STORAGE EXTERNAL;
ALTER TABLE search_segments ALTER COLUMN lengths SET STORAGE EXTERNAL;

CREATE SEQUENCE search_segment_ids;
