-- Chats and channels that receive the market recap after the NYSE close (/recap on).
-- `at_time` is wall-clock HH:MM in the IANA zone `tz`; the scheduler turns it into a UTC
-- instant per session, so daylight saving is applied on the day and never stored.
CREATE TABLE recap_subscriptions (
    platform          TEXT NOT NULL,
    chat_id           TEXT NOT NULL,
    at_time           TEXT NOT NULL CHECK (at_time GLOB '[0-2][0-9]:[0-5][0-9]'),
    tz                TEXT NOT NULL,
    lang              TEXT NOT NULL CHECK (lang IN ('en', 'zh')),
    created_by        TEXT,
    -- UTC ISO 8601. A recap due before this instant is not owed: subscribing at 17:00
    -- does not trigger the 16:15 recap that was due before the chat asked for one.
    active_since      TEXT NOT NULL,
    -- The latest session (YYYY-MM-DD) whose recap was taken for delivery or skipped. It is
    -- written before the send, so a restart can never deliver the same session twice.
    handled_session   TEXT,
    -- The last recap confirmed delivered: its session and when (UTC ISO 8601).
    last_sent_session TEXT,
    last_sent_at      TEXT,
    PRIMARY KEY (platform, chat_id)
) WITHOUT ROWID;

-- When each chat last asked for `/recap now`, for its per-chat rate limit across restarts.
CREATE TABLE recap_requests (
    platform     TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id)
) WITHOUT ROWID;
