-- Who belongs to which organisation, coordinators added in the bot, and what reviews need.

CREATE TABLE memberships (
    user_id         INTEGER NOT NULL,             -- Telegram user id
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_at    TEXT NOT NULL,
    decided_by      INTEGER,
    decided_at      TEXT,
    PRIMARY KEY (user_id, organisation_id)
);
CREATE INDEX memberships_pending ON memberships (status, organisation_id);

-- Coordinators added with /coordinators; the ones in COORDINATOR_IDS live in the configuration.
CREATE TABLE coordinators (
    user_id   INTEGER PRIMARY KEY,
    added_by  INTEGER,
    added_at  TEXT NOT NULL
);

ALTER TABLE organisations ADD COLUMN contact_person TEXT;
ALTER TABLE organisations ADD COLUMN areas TEXT NOT NULL DEFAULT '[]';  -- JSON list of direction codes
ALTER TABLE organisations ADD COLUMN registered_by INTEGER;

-- Evidence may be a link (evidence_url) or a photo or document kept by Telegram.
ALTER TABLE activities ADD COLUMN evidence_kind TEXT
    CHECK (evidence_kind IS NULL OR evidence_kind IN ('link', 'photo', 'document'));
ALTER TABLE activities ADD COLUMN evidence_file_id TEXT;
ALTER TABLE activities ADD COLUMN co_organisers TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN review_comment TEXT;
ALTER TABLE activities ADD COLUMN reviewed_by INTEGER;
ALTER TABLE activities ADD COLUMN reviewed_at TEXT;
CREATE INDEX activities_by_reporter ON activities (reported_by, status);
