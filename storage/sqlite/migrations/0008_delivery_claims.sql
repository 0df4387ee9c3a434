-- 0008: delivery rows are claimed before they are posted (storage/ledger.py), and gateway
-- sessions start in booked slots (storage/gateway.py).

-- Who is posting a row right now: the process index (DIGESTBOT_PROCESS k of k/n), the claim's
-- token (drawn afresh by each start of a process) and, in milliseconds since 1970, when the
-- claim lapses unless renewed. Every step of a post is written only while its claim holds. On
-- SQLite one process serves the database, so a claim is always its own; the columns are the
-- same on both engines.
ALTER TABLE deliveries ADD COLUMN claim_owner INTEGER;
ALTER TABLE deliveries ADD COLUMN claim_token TEXT;
ALTER TABLE deliveries ADD COLUMN claim_until INTEGER;

-- The next free IDENTIFY slot of each of Discord's max_concurrency buckets (ms since 1970):
-- several processes of one bot take their sessions' turns from here.
CREATE TABLE gateway_identify_slots (
    bucket  INTEGER PRIMARY KEY,
    next_at INTEGER NOT NULL
);
