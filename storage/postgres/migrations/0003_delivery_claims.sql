-- 0003: delivery rows are claimed before they are posted (storage/ledger.py), and gateway
-- sessions start in booked slots (storage/gateway.py): several `digestbot run` processes share
-- this database (DIGESTBOT_PROCESS).

-- Who is posting a row right now: the process index (k of DIGESTBOT_PROCESS=k/n), the claim's
-- token (drawn afresh by each start of a process) and, in milliseconds since 1970 by this
-- server's clock (one clock for every host), when the claim lapses unless renewed. A process
-- claims a row with SELECT ... FOR UPDATE SKIP LOCKED, and writes every step of the post only
-- while its token is still the row's.
ALTER TABLE deliveries ADD COLUMN claim_owner INTEGER;
ALTER TABLE deliveries ADD COLUMN claim_token TEXT;
ALTER TABLE deliveries ADD COLUMN claim_until BIGINT;
CREATE INDEX deliveries_claimed ON deliveries(claim_token) WHERE claim_token IS NOT NULL;

-- The next free IDENTIFY slot of each of Discord's max_concurrency buckets (ms since 1970, this
-- server's clock): every process of the bot books its shards' session starts here, under the
-- row's lock, so the bot as a whole starts one session per bucket per 5 seconds.
CREATE TABLE gateway_identify_slots (
    bucket  INTEGER PRIMARY KEY,
    next_at BIGINT NOT NULL
);
