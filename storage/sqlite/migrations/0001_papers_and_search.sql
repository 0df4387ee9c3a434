-- 0001: papers, the digests that brought them, and the full-text index.
-- A digest is one day: the markdown and the JSONL of a day are two files of one digest, so
-- a channel never gets the same day twice. Files are remembered by content hash so that
-- ingesting the same file again changes nothing.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE papers (
    id               INTEGER PRIMARY KEY,
    arxiv_id         TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    authors          TEXT NOT NULL DEFAULT '[]',   -- JSON list, as written
    primary_category TEXT NOT NULL DEFAULT '',
    categories       TEXT NOT NULL DEFAULT '[]',   -- JSON list, primary first
    tldr             TEXT NOT NULL DEFAULT '',
    motivation       TEXT NOT NULL DEFAULT '',
    method           TEXT NOT NULL DEFAULT '',
    result           TEXT NOT NULL DEFAULT '',
    conclusion       TEXT NOT NULL DEFAULT '',
    abstract         TEXT NOT NULL DEFAULT '',
    comment          TEXT NOT NULL DEFAULT '',
    code_url         TEXT NOT NULL DEFAULT '',
    keywords         TEXT NOT NULL DEFAULT '',
    translated_title TEXT NOT NULL DEFAULT '',
    abs_url          TEXT NOT NULL DEFAULT '',
    pdf_url          TEXT NOT NULL DEFAULT '',
    language         TEXT NOT NULL DEFAULT '',
    first_seen       TEXT NOT NULL,               -- digest date, YYYY-MM-DD
    last_seen        TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE paper_categories (
    category TEXT NOT NULL,
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    PRIMARY KEY (category, paper_id)
) WITHOUT ROWID;
CREATE INDEX paper_categories_paper ON paper_categories(paper_id);

-- Author names folded for matching (case, accents, spacing); `name` keeps the written form.
CREATE TABLE paper_authors (
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    name_key TEXT NOT NULL,
    PRIMARY KEY (paper_id, position)
) WITHOUT ROWID;
CREATE INDEX paper_authors_key ON paper_authors(name_key);

CREATE TABLE digests (
    id          INTEGER PRIMARY KEY,
    date        TEXT NOT NULL UNIQUE,              -- YYYY-MM-DD
    source      TEXT NOT NULL,                     -- the last file or URL ingested for the day
    language    TEXT NOT NULL DEFAULT '',
    paper_count INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE digest_files (
    content_hash TEXT PRIMARY KEY,                 -- sha256 of the file bytes
    digest_id    INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    format       TEXT NOT NULL,
    paper_count  INTEGER NOT NULL,
    ingested_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE digest_papers (
    digest_id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    section   TEXT NOT NULL,                       -- the category the digest listed it under
    position  INTEGER NOT NULL,
    PRIMARY KEY (digest_id, paper_id)
) WITHOUT ROWID;
CREATE INDEX digest_papers_paper ON digest_papers(paper_id);

-- Contentless: the text lives in `papers`; the index holds CJK runs as overlapping bigrams
-- (see storage/text.py), so deletes pass the same derived text back (storage/papers.py).
-- `categories` holds one token per category (cs.CV -> catcscv) so a category filter is a
-- posting-list intersection inside FTS5 rather than a lookup per hit; its bm25 weight is 0.
CREATE VIRTUAL TABLE papers_fts USING fts5(
    title, authors, tldr, abstract, details, categories,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
