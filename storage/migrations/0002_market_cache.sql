-- Market data fetched from Yahoo, kept across restarts (storage/market_cache.py).
-- Closed trading days never change, so their closes are kept for good; `market_spans`
-- records which day ranges were fetched completely, so a gap (holiday) is not a miss.
CREATE TABLE market_closes (
    ticker TEXT NOT NULL,
    day    TEXT NOT NULL,  -- YYYY-MM-DD, exchange trading date
    close  REAL NOT NULL CHECK (close > 0),
    PRIMARY KEY (ticker, day)
);

CREATE TABLE market_spans (
    ticker     TEXT NOT NULL,
    start_day  TEXT NOT NULL,  -- inclusive
    end_day    TEXT NOT NULL,  -- exclusive
    fetched_at TEXT NOT NULL,  -- UTC ISO 8601
    PRIMARY KEY (ticker, start_day, end_day)
);

-- The latest price expires after the TTL, but a stale one still beats the snapshot
-- when Yahoo is down.
CREATE TABLE market_latest (
    ticker     TEXT PRIMARY KEY,
    price      REAL NOT NULL CHECK (price > 0),
    at         TEXT NOT NULL,  -- UTC market time of the price
    fetched_at TEXT NOT NULL   -- UTC time it was fetched
);

-- "No such ticker" as Yahoo said it, so a typo costs one upstream call, not one per request.
CREATE TABLE market_unknown (
    ticker     TEXT PRIMARY KEY,
    checked_at TEXT NOT NULL
);

-- Rendered charts keyed by what they show, so an identical chart is not drawn twice.
CREATE TABLE market_charts (
    key        TEXT PRIMARY KEY,
    png        BLOB NOT NULL,
    created_at TEXT NOT NULL
);
