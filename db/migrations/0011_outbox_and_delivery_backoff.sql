-- Nothing is lost on the way out: a newsletter delivery that met an outage waits for its next
-- try, and every message that follows from a change is recorded with that change (the outbox).

-- A pending delivery is tried again no earlier than next_attempt_at (ISO 8601, UTC); waits
-- counts the outages it met, so the wait grows: minutes, then hours.
ALTER TABLE deliveries ADD COLUMN next_attempt_at TEXT;
ALTER TABLE deliveries ADD COLUMN waits INTEGER NOT NULL DEFAULT 0;

-- One message to one chat, rendered in its reader's language when the change was committed.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    kind             TEXT NOT NULL DEFAULT '',       -- what it follows from, for logs and counts
    text             TEXT NOT NULL,                  -- Telegram HTML
    markup           TEXT,                           -- JSON of the inline keyboard, if any
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,                  -- ISO 8601, UTC
    claimed_by       TEXT,                           -- 'host:pid:run' of the process sending it
    claimed_until    TEXT,                           -- its lease, so no two processes send it
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);

-- When coordinators were told a draft is ready: claimed in the transaction that records the
-- notice in the outbox, so a crash in between neither loses nor repeats it. Drafts that exist
-- already were announced by the code before this column.
ALTER TABLE newsletters ADD COLUMN draft_told_at TEXT;   -- ISO 8601, UTC
UPDATE newsletters SET draft_told_at = created_at;
