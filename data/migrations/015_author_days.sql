-- Opinion leaders and new voices at 10 M mentions (issue 6). rollup_authors_daily stays the
-- refresh's output; rollup_author_days is derived from it by pipeline/scoring/rollups-authors.ts:
-- 1. authors by a 64-bit key instead of two VARCHARs: summing a window per author groups integers;
-- 2. each row carries its author's first day of the topic, so "new voices" reads the window only,
--    not each author's whole history.
-- rollup_author_prints remembers a fingerprint of each (topic, day) of rollup_authors_daily as it
-- was last copied: a refresh copies only the days whose fingerprint moved.

-- Keys: md5_number_lower(source || ':' || author_id) (':' never occurs in a source name), or on a
-- collision with a key already taken the same of source || ':' || author_id || ':' || attempt.
-- Only authors with rows in rollup_author_days have a key.
CREATE TABLE author_keys (
  author_key UBIGINT NOT NULL,
  source VARCHAR NOT NULL,
  author_id VARCHAR NOT NULL
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

CREATE TABLE rollup_author_prints (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  n BIGINT NOT NULL,
  print HUGEINT NOT NULL
);

-- Rollups built before this migration. Authors whose first key collides (none in practice) are
-- left out with their days' fingerprints: the next refresh copies those days, colliding keys and all.
INSERT INTO author_keys
SELECT author_key, source, author_id FROM (
  SELECT md5_number_lower(source || ':' || author_id) AS author_key, source, author_id
  FROM (SELECT DISTINCT source, author_id FROM rollup_authors_daily))
QUALIFY count(*) OVER (PARTITION BY author_key) = 1;

INSERT INTO rollup_author_days
SELECT r.topic_id, r.day, k.author_key, r.mentions, r.engagement, r.followers,
  min(r.day) OVER (PARTITION BY r.topic_id, k.author_key)
FROM rollup_authors_daily r JOIN author_keys k USING (source, author_id)
ORDER BY r.topic_id, r.day;

INSERT INTO rollup_author_prints
SELECT r.topic_id, r.day, count(*), sum(hash(r.source, r.author_id, r.mentions, r.engagement, r.followers))
FROM rollup_authors_daily r LEFT JOIN author_keys k USING (source, author_id)
GROUP BY ALL HAVING bool_and(k.author_key IS NOT NULL);

INSERT OR REPLACE INTO meta
SELECT 'compacted:rollup_author_days', count(*)::VARCHAR FROM rollup_author_days HAVING count(*) >= 500000;
