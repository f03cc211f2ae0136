-- Telegram update ids already taken in hand by a webhook worker (bot.telegram.webhook):
-- Telegram re-sends an update that was not answered, possibly to another worker, and a
-- command must not act twice. 'handling' is a claim whose worker may still be at work (or
-- died: the claim lapses after a lease); 'done' means acted on. Rows are kept two days,
-- twice as long as Telegram keeps an unanswered update.
CREATE TABLE telegram_updates (
    update_id  INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('handling', 'done')),
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (update_id)
);
CREATE INDEX telegram_updates_by_age ON telegram_updates (claimed_at);

-- Which worker redraws a live tally message, and when (milliseconds since the epoch): the
-- refresh lease that keeps a message at one edit an interval, and its edits in order, across
-- every worker (bot.shared_tally). `holder` redraws until `held_until` (then the lease
-- lapses: that worker is taken to be dead); `again` is set when a vote came in during its
-- redraw, so it redraws once more; `due_at` is the earliest the next redraw may start;
-- `shown` a hash of what the message shows now, so that no worker sends an edit that
-- changes nothing (Telegram refuses it with a 400).
CREATE TABLE tally_refreshes (
    message_key TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    holder      TEXT,
    held_until  INTEGER NOT NULL DEFAULT 0,
    again       INTEGER NOT NULL DEFAULT 0 CHECK (again IN (0, 1)),
    shown       TEXT,
    PRIMARY KEY (message_key)
);

-- Telegram's flood limits, shared by every process that sends as the bot: for each scope
-- ('all' for the bot's 30 messages a second, 'chat:<id>' for a group's 20 a minute), the
-- theoretical time (microseconds since the epoch) the scope's next message is due at, by
-- the generic cell rate algorithm (storage.flood_limits).
CREATE TABLE telegram_flood (
    scope   TEXT NOT NULL,
    tat_us  INTEGER NOT NULL,
    PRIMARY KEY (scope)
);
