-- Organisations, the activities they report against the plan's indicators, and an audit trail.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,                    -- name.casefold() in Python: see below
    edrpou      TEXT UNIQUE CHECK (edrpou IS NULL OR (length(edrpou) = 8 AND edrpou NOT GLOB '*[^0-9]*')),
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'verified', 'rejected')),
    contact     TEXT,
    created_at  TEXT NOT NULL                     -- ISO 8601, UTC
);
-- One organisation per name, whatever its letter case. COLLATE NOCASE and lower() fold ASCII
-- only, so 'ГО Світло' and 'го світло' would both pass: the repository stores the folded name.
CREATE UNIQUE INDEX organisations_name ON organisations (name_key);

CREATE TABLE activities (
    id                   INTEGER PRIMARY KEY,
    plan_id              TEXT NOT NULL,           -- the plan it was reported against
    indicator_id         TEXT NOT NULL,
    measure_code         TEXT NOT NULL,
    organisation_id      INTEGER NOT NULL REFERENCES organisations (id),
    reported_by          INTEGER,                 -- Telegram user id; NULL when imported
    date                 TEXT NOT NULL,           -- YYYY-MM-DD
    quantity             INTEGER NOT NULL CHECK (quantity > 0),
    cso_participants     INTEGER CHECK (cso_participants >= 0),
    council_participants INTEGER CHECK (council_participants >= 0),
    title                TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    evidence_url         TEXT,
    status               TEXT NOT NULL
                         CHECK (status IN ('draft', 'submitted', 'returned', 'approved', 'rejected')),
    duplicate_of         INTEGER REFERENCES activities (id),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX activities_progress ON activities (plan_id, status, indicator_id);

-- A joint event is credited to every organisation that ran it, not only the reporting one.
CREATE TABLE activity_credits (
    activity_id     INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (activity_id, organisation_id)
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,                      -- ISO 8601, UTC
    actor     INTEGER,                            -- Telegram user id; NULL for the CLI
    entity    TEXT NOT NULL,                      -- 'activity', 'organisation'
    entity_id INTEGER NOT NULL,
    action    TEXT NOT NULL,
    reason    TEXT
);
