-- The monthly newsletter's own memory: which indicators an issue announced, the 2.1.3 activity
-- its sending recorded, and whether coordinators were told an unapproved issue is waiting.

ALTER TABLE newsletters ADD COLUMN activity_id INTEGER REFERENCES activities (id);
ALTER TABLE newsletters ADD COLUMN waiting_told_at TEXT;   -- ISO 8601, UTC

-- Indicators an issue lists as newly met; a later issue lists only the others.
CREATE TABLE newsletter_indicators (
    newsletter_id  INTEGER NOT NULL REFERENCES newsletters (id) ON DELETE CASCADE,
    indicator_id   TEXT NOT NULL,
    year           INTEGER NOT NULL,
    PRIMARY KEY (newsletter_id, indicator_id, year)
) WITHOUT ROWID;
