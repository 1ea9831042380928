-- News items posted by an operator or an integration, scored on ingest (a lexicon sentiment).
-- Times UTC epoch ms; symbols a comma-separated list of upper-case symbols with a leading and a
-- trailing comma (",NIFTY,RELIANCE,") so that one symbol is a LIKE '%,SYM,%' match.
CREATE TABLE IF NOT EXISTS news (
    news_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    url             TEXT,
    category        TEXT    NOT NULL,
    symbols         TEXT    NOT NULL,
    sentiment_score REAL    NOT NULL,
    sentiment       TEXT    NOT NULL,          -- positive, negative, neutral
    published_at    INTEGER  NOT NULL,
    created_at      INTEGER  NOT NULL,
    posted_by       TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS news_published ON news (published_at);
