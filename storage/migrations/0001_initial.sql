-- Per-chat choices that override the platform locale and the bot's default time zone.
CREATE TABLE chat_settings (
    platform TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    lang     TEXT CHECK (lang IS NULL OR lang IN ('en', 'zh')),
    tz       TEXT,
    PRIMARY KEY (platform, chat_id)
);

-- Polls. A chat's own poll has its platform and chat; a global poll has neither and is
-- counted across every platform and chat (the DeepSeek poll below, id 1).
CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    platform    TEXT,
    chat_id     TEXT,
    question    TEXT NOT NULL,
    -- Only polls the bot itself ships are translated; people's own polls keep their words.
    question_zh TEXT,
    multi       INTEGER NOT NULL DEFAULT 0 CHECK (multi IN (0, 1)),
    created_by  TEXT,
    created_at  TEXT NOT NULL,
    -- UTC ISO 8601 (+00:00), so text order is time order. A poll is closed once closed_at
    -- is set or closes_at has passed, which covers polls that expired while the bot was down.
    closes_at   TEXT,
    closed_at   TEXT,
    CHECK ((platform IS NULL) = (chat_id IS NULL))
);
CREATE INDEX polls_by_chat ON polls (platform, chat_id, id);
-- One open poll per chat: a second needs the first closed (expired ones are marked first).
CREATE UNIQUE INDEX polls_one_open_per_chat ON polls (platform, chat_id)
    WHERE closed_at IS NULL AND platform IS NOT NULL;

CREATE TABLE poll_options (
    poll_id  INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL CHECK (idx BETWEEN 0 AND 9),
    label    TEXT NOT NULL,
    label_zh TEXT,
    PRIMARY KEY (poll_id, idx)
) WITHOUT ROWID;

-- A vote is keyed by (poll, platform, user): at most one row per person per poll, so a
-- repeated vote can only overwrite itself. `choices` is the set of chosen option indexes as
-- bits (bit i = option i; at most 10 options), which lets a multi-choice vote keep that key.
-- A withdrawn vote is deleted rather than stored empty.
CREATE TABLE poll_votes (
    poll_id  INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    choices  INTEGER NOT NULL CHECK (choices BETWEEN 1 AND 1023),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, platform, user_id)
) WITHOUT ROWID;

-- Button presses already applied, by the platform's id for the delivery (Telegram callback
-- query id, Discord interaction id): pressing toggles, so a redelivered press must be ignored.
CREATE TABLE poll_presses (
    platform    TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    pressed_at  TEXT NOT NULL,
    PRIMARY KEY (platform, delivery_id)
) WITHOUT ROWID;

-- The article's closing question, the same poll in every chat on every platform.
INSERT INTO polls (id, question, question_zh, created_at)
VALUES (1, 'Will DeepSeek replace GPT?', 'DeepSeek 会取代 GPT 吗？', '2025-01-27T00:00:00+00:00');
INSERT INTO poll_options (poll_id, idx, label, label_zh) VALUES
    (1, 0, 'Yes', '会'),
    (1, 1, 'No, GPT stays ahead', '不会，GPT 仍将领先'),
    (1, 2, 'They will coexist', '两者会共存'),
    (1, 3, 'Too early to tell', '现在下结论还为时过早');
-- PostgreSQL's identity column does not see the id given above; the next poll is 2.
--postgresql: SELECT setval(pg_get_serial_sequence('polls', 'id'), (SELECT max(id) FROM polls));
