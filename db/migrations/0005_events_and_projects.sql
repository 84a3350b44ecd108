-- Events with RSVPs and a waiting list, their reminders, and the CSOs' current projects.

CREATE TABLE events (
    id                   INTEGER PRIMARY KEY,
    title                TEXT NOT NULL,
    starts_at            TEXT NOT NULL,           -- ISO 8601, UTC
    ends_at              TEXT NOT NULL,           -- ISO 8601, UTC
    place                TEXT NOT NULL,           -- an address or an online link
    organiser            TEXT NOT NULL,
    organisation_id      INTEGER REFERENCES organisations (id),
    measures             TEXT NOT NULL DEFAULT '[]',  -- JSON list of measure codes
    description          TEXT NOT NULL DEFAULT '',
    capacity             INTEGER CHECK (capacity IS NULL OR capacity > 0),
    status               TEXT NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    proposed_by          INTEGER,                 -- a member's Telegram id; NULL for coordinators
    created_by           INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    reminded_at          TEXT,                    -- set once the reminder went out
    report_requested_at  TEXT,                    -- set once the organiser was asked to report
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_upcoming ON events (status, starts_at);

CREATE TABLE event_attendance (
    id         INTEGER PRIMARY KEY,               -- the order people answered in
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('going', 'waiting')),
    created_at TEXT NOT NULL,
    UNIQUE (event_id, user_id)
);

CREATE TABLE projects (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    organisations TEXT NOT NULL,
    measures      TEXT NOT NULL DEFAULT '[]',     -- JSON list of measure codes
    description   TEXT NOT NULL DEFAULT '',
    link          TEXT,
    active_until  TEXT NOT NULL,                  -- YYYY-MM-DD, inclusive
    added_by      INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX projects_active ON projects (active_until);
