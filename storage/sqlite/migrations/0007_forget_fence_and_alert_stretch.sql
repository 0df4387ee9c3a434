-- 0007: stale marks carry an era (forgetting is final); feeds remember when their breakage was told.

-- A member's stale mark carries an era, drawn afresh each time the mark is created. A training
-- run reads the era before it reads the member's feedback and writes its model only while the
-- same era stands: after /forget me (which deletes the mark) the run's model, learnt from
-- deleted feedback, is thrown away, even when the member votes again meanwhile.
ALTER TABLE member_models_stale ADD COLUMN era INTEGER NOT NULL DEFAULT 0;

-- When a server was last told that the feed of one of its channels stopped. Kept apart from the
-- feed (so /feed remove and /feed add again do not forget it) and per channel: a channel refused
-- again within a day is the same breakage, nobody is told twice; a server is told of at most a
-- few channels a day. A post that goes through ends that channel's stretch (its row goes).
CREATE TABLE feed_alerts (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    alerted_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
) WITHOUT ROWID;
