-- Users of the bot and the dialogs they are in, so both survive a restart.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,              -- Telegram user id
    language    TEXT CHECK (language IN ('uk', 'en')),  -- NULL until the user picks one
    role        TEXT NOT NULL DEFAULT 'guest'
                CHECK (role IN ('guest', 'member', 'coordinator')),
    first_seen  TEXT NOT NULL                     -- ISO 8601, UTC
);

-- aiogram FSM: one row per storage key (bot, chat, user, thread, destiny).
CREATE TABLE dialog_states (
    key         TEXT PRIMARY KEY,
    state       TEXT,
    data        TEXT NOT NULL DEFAULT '{}',       -- JSON object
    updated_at  TEXT NOT NULL
);
