-- Daily rollups beside the hourly ones (issue 6, performance): a chart over 90 days or a year reads
-- one row per local day instead of 24, and only the ragged hours at the window's edges from the
-- hourly tables. Written by the scoring stage in the same transaction as the hourly rows, from the
-- same rows, so a day here is always the sum of its local hours there.

-- Sums of rollup_hourly per local day (reporting time zone).
CREATE TABLE rollup_daily (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  source VARCHAR NOT NULL,
  lang VARCHAR NOT NULL,
  sentiment VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  reposts BIGINT NOT NULL,
  copies BIGINT NOT NULL,
  engagement BIGINT NOT NULL,
  reach BIGINT NOT NULL,
  PRIMARY KEY (topic_id, day, source, lang, sentiment)
);

-- Sums of rollup_terms_hourly per local day.
CREATE TABLE rollup_terms_daily (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  term VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  PRIMARY KEY (topic_id, day, term)
);

-- Rollups built before this migration: their days, in the zone they were built in.
INSERT INTO rollup_daily
SELECT topic_id, timezone((SELECT value FROM meta WHERE key = 'rollup_timezone'), hour_start)::DATE AS day,
  source, lang, sentiment, sum(mentions), sum(reposts), sum(copies), sum(engagement), sum(reach)
FROM rollup_hourly GROUP BY ALL;

INSERT INTO rollup_terms_daily
SELECT topic_id, timezone((SELECT value FROM meta WHERE key = 'rollup_timezone'), hour_start)::DATE AS day,
  term, sum(mentions)
FROM rollup_terms_hourly GROUP BY ALL;
