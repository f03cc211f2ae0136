-- Small facts the bot remembers about itself between runs, e.g. the hash of the Discord
-- command tree last synced, so start-up syncs only when the commands changed.
CREATE TABLE bot_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
