-- 0004: drop paper_authors. Authors are matched from the folded names in the full-text index
-- (searches, counts) and from each digest's own papers (subscriptions); keeping a row per
-- author per paper cost a tenth of ingest time and answered no question the index cannot.
DROP INDEX IF EXISTS paper_authors_key;
DROP TABLE IF EXISTS paper_authors;
