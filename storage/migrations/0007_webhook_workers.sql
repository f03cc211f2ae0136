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

-- Which process refreshes a live tally message next, and when (milliseconds since the
-- epoch): the refresh lease that keeps a message at one edit an interval across every
-- worker (bot.shared_tally); `shown` a hash of what the message shows now, so that no
-- worker sends an edit that changes nothing (Telegram refuses it with a 400).
CREATE TABLE tally_refreshes (
    message_key TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    shown       TEXT,
    PRIMARY KEY (message_key)
);
