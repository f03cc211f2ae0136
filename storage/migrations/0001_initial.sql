-- Per-chat choices that override the platform locale and the bot's default time zone.
CREATE TABLE chat_settings (
    platform TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    lang     TEXT CHECK (lang IS NULL OR lang IN ('en', 'zh')),
    tz       TEXT,
    PRIMARY KEY (platform, chat_id)
);
