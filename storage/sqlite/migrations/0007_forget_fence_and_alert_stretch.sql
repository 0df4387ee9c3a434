-- 0007: stale marks carry an era (forgetting is final); feeds remember when their breakage was told.

-- A member's stale mark carries an era, drawn afresh each time the mark is created. A training
-- run reads the era before it reads the member's feedback and writes its model only while the
-- same era stands: after /forget me (which deletes the mark) the run's model, learnt from
-- deleted feedback, is thrown away, even when the member votes again meanwhile.
ALTER TABLE member_models_stale ADD COLUMN era INTEGER NOT NULL DEFAULT 0;

-- When a feed's creator (or the server) was last told that the feed stopped. A feed resumed and
-- refused again within a day is the same breakage: nobody is told twice. A post that goes
-- through ends the stretch (the column is cleared).
ALTER TABLE channel_feeds ADD COLUMN alerted_at TEXT;
