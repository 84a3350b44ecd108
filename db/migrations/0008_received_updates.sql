-- Every update Telegram delivered, recorded before it is confirmed (polling's next offset, or
-- the webhook's 200): a process killed mid-handling replays what is not done at start-up, and
-- an update sent twice (a re-sent webhook, a lost confirmation) is handled once.
CREATE TABLE received_updates (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT NOT NULL,  -- the update as JSON, to handle it again after a crash
    received_at TEXT NOT NULL,
    handled_at  TEXT            -- NULL until its handling finished (well or not)
);
CREATE INDEX received_updates_unfinished ON received_updates (update_id) WHERE handled_at IS NULL;
