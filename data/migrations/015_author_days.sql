-- Opinion leaders and new voices at 10 M mentions (issue 6). rollup_authors_daily stays the
-- refresh's output; rollup_author_days is copied from it by pipeline/scoring/rollups-authors.ts for
-- the days and topics each refresh rewrote:
-- 1. authors by a 64-bit key instead of two VARCHARs: summing a window per author groups integers;
-- 2. each row carries its author's first day of the topic, so "new voices" reads the window only,
--    not each author's whole history.
-- Keys: md5_number_lower(source || ':' || author_id) (':' never occurs in a source name), or on a
-- collision with a key already taken the same of source || ':' || author_id || ':' || attempt.
-- Only authors with rows in rollup_author_days have a key. handle and name are the authors table's,
-- copied when the key is made and whenever that author's row is recomputed (summariseAuthors), so
-- the chart never joins the whole authors table for the twenty it shows.
CREATE TABLE author_keys (
  author_key UBIGINT NOT NULL,
  source VARCHAR NOT NULL,
  author_id VARCHAR NOT NULL,
  handle VARCHAR,
  name VARCHAR
);

CREATE TABLE rollup_author_days (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  author_key UBIGINT NOT NULL,
  mentions BIGINT NOT NULL,
  engagement BIGINT NOT NULL,
  followers BIGINT,
  -- the author's first day in rollup_authors_daily for this topic
  first_day DATE NOT NULL
);
COMMENT ON TABLE rollup_author_days IS 'Per topic, local day and author (author_keys): original mentions, engagement, most followers seen, and the author''s first day of the topic.';

-- Rollups built before this migration. The keys as the refresh gives them: a collision's loser
-- (none in practice) takes the second attempt's key; a third attempt is beyond a migration.
INSERT INTO author_keys
SELECT n.*, a.handle, a.name FROM (
  SELECT author_key, source, author_id FROM (
    SELECT md5_number_lower(source || ':' || author_id) AS author_key, source, author_id
    FROM (SELECT DISTINCT source, author_id FROM rollup_authors_daily))
  QUALIFY row_number() OVER (PARTITION BY author_key ORDER BY source, author_id) = 1) n
LEFT JOIN authors a USING (source, author_id);

INSERT INTO author_keys
SELECT n.*, a.handle, a.name FROM (
  SELECT author_key, source, author_id FROM (
    SELECT md5_number_lower(source || ':' || author_id || ':1') AS author_key, source, author_id
    FROM (SELECT DISTINCT source, author_id FROM rollup_authors_daily) ANTI JOIN author_keys USING (source, author_id))
  ANTI JOIN author_keys USING (author_key)
  QUALIFY row_number() OVER (PARTITION BY author_key ORDER BY source, author_id) = 1) n
LEFT JOIN authors a USING (source, author_id);

SELECT error('migration 015: authors left without a key after two attempts') FROM (
  SELECT DISTINCT source, author_id FROM rollup_authors_daily) ANTI JOIN author_keys USING (source, author_id);

INSERT INTO rollup_author_days
SELECT r.topic_id, r.day, k.author_key, r.mentions, r.engagement, r.followers,
  min(r.day) OVER (PARTITION BY r.topic_id, k.author_key)
FROM rollup_authors_daily r JOIN author_keys k USING (source, author_id)
ORDER BY r.topic_id, r.day;

INSERT OR REPLACE INTO meta
SELECT 'compacted:rollup_author_days', count(*)::VARCHAR FROM rollup_author_days HAVING count(*) >= 500000;
