-- Every message that shows a poll, on any platform, so a vote anywhere refreshes all of them.
-- A chat message is (platform, chat_id, message_id); a Telegram inline message has no chat
-- the bot can see: chat_id is '' and message_id is its inline_message_id. `locale` is the
-- platform locale of whoever the copy was shown to first, read like a request's.
CREATE TABLE poll_copies (
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    locale     TEXT NOT NULL DEFAULT '',
    shown_at   TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, message_id)
);
CREATE INDEX poll_copies_by_poll ON poll_copies (poll_id, platform, chat_id);
