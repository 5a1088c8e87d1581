-- Opinion leaders over long windows without grouping every author of the window (issue 6: a 1-year
-- window of the largest topic grouped 1.9 M rows into 983 k authors, 550 ms).
-- 1. rollup_author_bounds: per topic and author, ub = ln(1 + most followers ever) + ln(1 + all
--    engagement ever) over their rows of rollup_author_days. A window's impact sums and maxes a
--    subset of those rows, so it is never above ub: an author whose ub is below the limit-th impact
--    found among some authors cannot be shown, and the chart groups only the others.
-- 2. rollup_author_floors: per topic, the ub of its 800th author (4 x the largest limit): the
--    authors at or above it are the ones the chart groups first. Only a hint: any floor gives the
--    same result, a stale one only groups more authors.
-- pipeline/scoring/rollups-authors.ts recomputes both for the authors and topics each refresh touches.
-- 3. An index on author_keys' key: the chart resolves the twenty-odd authors it shows, and without
--    one that join read the keys, sources, ids, handles and names of every author (2.2 M at 10 M
--    mentions: ~45 ms CPU a request, more than the grouping of a 24 h window).
CREATE TABLE rollup_author_bounds (
  topic_id VARCHAR NOT NULL,
  author_key UBIGINT NOT NULL,
  -- the author's first day of the topic, as on their rollup_author_days rows: the new voices'
  -- candidates are the highest bounds among the authors first seen in the window
  first_day DATE NOT NULL,
  ub DOUBLE NOT NULL
);
COMMENT ON TABLE rollup_author_bounds IS 'Per topic and author (author_keys): ln(1 + most followers) + ln(1 + engagement) over all their rollup_author_days rows, at least any window''s impact.';

CREATE TABLE rollup_author_floors (
  topic_id VARCHAR NOT NULL,
  floor DOUBLE NOT NULL
);

CREATE INDEX author_keys_key ON author_keys (author_key);

INSERT INTO rollup_author_bounds
SELECT topic_id, author_key, min(first_day), ln(1 + coalesce(max(followers), 0)) + ln(1 + sum(engagement)) AS ub
FROM rollup_author_days GROUP BY topic_id, author_key
ORDER BY topic_id, ub DESC;

INSERT INTO rollup_author_floors
SELECT topic_id, list_min(max(ub, 800)) FROM rollup_author_bounds GROUP BY topic_id;

INSERT OR REPLACE INTO meta
SELECT 'compacted:rollup_author_bounds', count(*)::VARCHAR FROM rollup_author_bounds HAVING count(*) >= 122880;
