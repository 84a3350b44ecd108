-- People are shown by name: the first name and @username Telegram last gave for each user
-- (the user middleware refreshes them only when they change).
ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN username TEXT;

-- A coordinator may deactivate a verified organisation: its members then stop reporting for
-- it. A column, not a fourth `status`: the CHECK on status cannot change without rebuilding a
-- table other tables refer to, and what it reported before still counts as verified work.
ALTER TABLE organisations ADD COLUMN deactivated_at TEXT;
