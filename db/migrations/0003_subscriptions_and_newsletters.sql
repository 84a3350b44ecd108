-- Subscribers of the monthly newsletter, the newsletters themselves and one delivery per chat.

CREATE TABLE subscribers (
    user_id          INTEGER PRIMARY KEY,             -- Telegram user id
    chat_id          INTEGER NOT NULL,                -- where the newsletter goes
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    consented_at     TEXT NOT NULL,                   -- ISO 8601, UTC: the latest /subscribe
    unsubscribed_at  TEXT,                            -- ISO 8601, UTC: the latest /unsubscribe
    inactive_reason  TEXT                             -- why active = 0: unsubscribed, blocked…
);
CREATE INDEX subscribers_chat ON subscribers (chat_id);
CREATE INDEX subscribers_active ON subscribers (active, chat_id);

CREATE TABLE newsletters (
    id           INTEGER PRIMARY KEY,
    month        TEXT NOT NULL UNIQUE CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
    status       TEXT NOT NULL DEFAULT 'draft'
                 CHECK (status IN ('draft', 'approved', 'sending', 'paused', 'cancelled', 'sent')),
    intro        TEXT NOT NULL DEFAULT '',
    parts        TEXT NOT NULL DEFAULT '[]',          -- JSON list of HTML messages, in order
    created_at   TEXT NOT NULL,
    approved_by  INTEGER,
    started_at   TEXT,
    finished_at  TEXT,
    sender       TEXT,                                -- 'host:pid:run' of the process sending it
    sender_seen  TEXT                                 -- ISO 8601, UTC: that process's heartbeat
);

-- One row per chat a newsletter goes to; parts_sent counts parts Telegram confirmed.
CREATE TABLE deliveries (
    newsletter_id  INTEGER NOT NULL REFERENCES newsletters (id),
    chat_id        INTEGER NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    parts_sent     INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    sent_at        TEXT,
    PRIMARY KEY (newsletter_id, chat_id)
) WITHOUT ROWID;
CREATE INDEX deliveries_state ON deliveries (newsletter_id, state, chat_id);
