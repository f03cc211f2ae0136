-- Poll options chosen at creation: --hide-results keeps every count unseen until the poll
-- closes; --public lets moderators list who voted for what (without it a poll is anonymous).
ALTER TABLE polls ADD COLUMN hide_results INTEGER NOT NULL DEFAULT 0 CHECK (hide_results IN (0, 1));
ALTER TABLE polls ADD COLUMN public_votes INTEGER NOT NULL DEFAULT 0 CHECK (public_votes IN (0, 1));
-- 1 once every chat that showed the poll has had its closing announcement claimed. Polls
-- closed before this version were announced the old way (the /poll close reply), so they
-- are done; a poll whose time ran out while the bot was stopped is still announced.
ALTER TABLE polls ADD COLUMN announced INTEGER NOT NULL DEFAULT 0 CHECK (announced IN (0, 1));
UPDATE polls SET announced = 1 WHERE closed_at IS NOT NULL;

-- From now on poll_votes.user_id holds a keyed hash of (poll, platform, user id), never the
-- raw id (storage/poll_privacy.py rewrites the rows written before, once, at start), and
-- voter_name the display name the platform gave at the vote, for public polls only.
ALTER TABLE poll_votes ADD COLUMN voter_name TEXT;

-- One closing announcement per poll and chat: claimed before it is sent, so no restart and
-- no second process can post it twice.
CREATE TABLE poll_announcements (
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, platform, chat_id)
);
