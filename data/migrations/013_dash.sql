-- Dashboard performance at 10 M mentions (issue 6).
-- 1. The rollup tables lose their primary keys: the refresh writes each bucket whole (DELETE +
--    INSERT in one transaction), so a key only cost an index of every row, rewritten on each
--    refresh (at a million mentions that index made a month's refresh take minutes).
-- 2. Their rows are stored ordered by (topic, time), so a chart's topic and window filters skip
--    whole row groups by their min/max; the refresh appends in that order and compacts (rewrites in
--    order) when a table has doubled since its last compaction (meta key 'compacted:<table>').
-- 3. rollup_mentions (below) lists each scored mention per topic in time order for the stream.
-- 4. mention_terms carries its mention's created_at and is stored ordered by (term, created_at): a
--    term lookup reads only the row groups of that term and window, not the whole index.

CREATE TABLE rollup_hourly_013 (
  topic_id VARCHAR NOT NULL,
  hour_start TIMESTAMPTZ NOT NULL,
  source VARCHAR NOT NULL,
  lang VARCHAR NOT NULL,
  sentiment VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  reposts BIGINT NOT NULL,
  copies BIGINT NOT NULL,
  engagement BIGINT NOT NULL,
  reach BIGINT NOT NULL
);
INSERT INTO rollup_hourly_013 SELECT * FROM rollup_hourly ORDER BY topic_id, hour_start;
DROP TABLE rollup_hourly;
ALTER TABLE rollup_hourly_013 RENAME TO rollup_hourly;
COMMENT ON TABLE rollup_hourly IS 'Hourly counts per topic (''*'' = all), source, language, sentiment; originals only in mentions.';

CREATE TABLE rollup_daily_013 (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  source VARCHAR NOT NULL,
  lang VARCHAR NOT NULL,
  sentiment VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  reposts BIGINT NOT NULL,
  copies BIGINT NOT NULL,
  engagement BIGINT NOT NULL,
  reach BIGINT NOT NULL
);
INSERT INTO rollup_daily_013 SELECT * FROM rollup_daily ORDER BY topic_id, day;
DROP TABLE rollup_daily;
ALTER TABLE rollup_daily_013 RENAME TO rollup_daily;

CREATE TABLE rollup_terms_hourly_013 (
  topic_id VARCHAR NOT NULL,
  hour_start TIMESTAMPTZ NOT NULL,
  term VARCHAR NOT NULL,
  mentions BIGINT NOT NULL
);
INSERT INTO rollup_terms_hourly_013 SELECT * FROM rollup_terms_hourly ORDER BY topic_id, hour_start;
DROP TABLE rollup_terms_hourly;
ALTER TABLE rollup_terms_hourly_013 RENAME TO rollup_terms_hourly;

CREATE TABLE rollup_terms_daily_013 (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  term VARCHAR NOT NULL,
  mentions BIGINT NOT NULL
);
INSERT INTO rollup_terms_daily_013 SELECT * FROM rollup_terms_daily ORDER BY topic_id, day;
DROP TABLE rollup_terms_daily;
ALTER TABLE rollup_terms_daily_013 RENAME TO rollup_terms_daily;

CREATE TABLE rollup_authors_daily_013 (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  source VARCHAR NOT NULL,
  author_id VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  engagement BIGINT NOT NULL,
  followers BIGINT
);
INSERT INTO rollup_authors_daily_013 SELECT * FROM rollup_authors_daily ORDER BY topic_id, day;
DROP TABLE rollup_authors_daily;
ALTER TABLE rollup_authors_daily_013 RENAME TO rollup_authors_daily;

-- Which mentions contain which normalised term; created_at is the mention's (a mention keeps it).
-- Rows whose mention is gone (none should be: erasure deletes both) are dropped here.
CREATE TABLE mention_terms_013 (
  term VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO mention_terms_013
SELECT t.term, t.source, t.native_id, m.created_at
FROM mention_terms t JOIN mentions m USING (source, native_id) ORDER BY t.term, m.created_at;
DROP TABLE mention_terms;
ALTER TABLE mention_terms_013 RENAME TO mention_terms;

-- One row per scored mention and topic ('*' = every mention), written by the rollup refresh from
-- the same rows as the counts: the mention stream and text search page through a topic's rows in
-- time order (a few row groups) and read the mentions table only for the page shown. sentiment is
-- the label in force (a correction wins); original: neither a repost nor a syndicated copy.
CREATE TABLE rollup_mentions (
  topic_id VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  lang VARCHAR NOT NULL,
  sentiment VARCHAR NOT NULL,
  original BOOLEAN NOT NULL
);
INSERT INTO rollup_mentions
WITH src AS (
  SELECT m.source, m.native_id, m.created_at, s.lang, coalesce(c.label, s.sentiment) AS sentiment,
    s.copy_of_id IS NULL AND NOT m.is_repost AS original
  FROM mentions m JOIN mention_scores s USING (source, native_id)
  LEFT JOIN sentiment_corrections_latest c USING (source, native_id))
SELECT topic_id, created_at, source, native_id, lang, sentiment, original FROM (
  SELECT '*' AS topic_id, * FROM src
  UNION ALL
  SELECT t.topic_id, src.* FROM src JOIN mention_topics t USING (source, native_id))
ORDER BY topic_id, created_at;

-- The tables just written in order count as compacted (the refresh's rule: rewrite at double).
-- Below 500,000 rows (the refresh's floor) there is nothing to remember.
INSERT OR REPLACE INTO meta
SELECT 'compacted:' || name, n::VARCHAR FROM (
  SELECT 'rollup_hourly' AS name, count(*) AS n FROM rollup_hourly
  UNION ALL SELECT 'rollup_daily', count(*) FROM rollup_daily
  UNION ALL SELECT 'rollup_terms_hourly', count(*) FROM rollup_terms_hourly
  UNION ALL SELECT 'rollup_terms_daily', count(*) FROM rollup_terms_daily
  UNION ALL SELECT 'rollup_authors_daily', count(*) FROM rollup_authors_daily
  UNION ALL SELECT 'mention_terms', count(*) FROM mention_terms
  UNION ALL SELECT 'rollup_mentions', count(*) FROM rollup_mentions)
WHERE n >= 500000;
