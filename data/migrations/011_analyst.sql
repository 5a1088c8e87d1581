-- The analyst console (issue 6): saved queries, documented views over the main tables, and comments
-- the schema browser (GET /api/schema) shows beside each table, view and column.

CREATE SEQUENCE saved_queries_id;
CREATE TABLE saved_queries (
  id BIGINT PRIMARY KEY DEFAULT nextval('saved_queries_id'),
  -- shown in the console's list; one query per name
  name VARCHAR NOT NULL UNIQUE,
  -- a single SELECT, checked like the console checks it before it is saved
  sql VARCHAR NOT NULL,
  created_by VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

-- One row per mention with its scores, the sentiment in force (a user's correction wins over the
-- model) and its topics: what most listening questions start from.
CREATE VIEW analyst_mentions AS
SELECT m.source, m.native_id, m.url, m.title, m.text, m.author_handle, m.author_followers,
  m.created_at, m.is_repost, m.likes, m.reposts, m.replies,
  s.lang, coalesce(c.label, s.sentiment) AS sentiment, s.sentiment AS model_sentiment,
  s.sentiment_score, s.sentiment_model, s.copy_of_source IS NOT NULL AS is_copy,
  (SELECT list(t.topic_id ORDER BY t.topic_id) FROM mention_topics t
   WHERE t.source = m.source AND t.native_id = m.native_id) AS topics
FROM mentions m
LEFT JOIN mention_scores s USING (source, native_id)
LEFT JOIN sentiment_corrections_latest c USING (source, native_id);

-- Daily activity per person and platform with the department and location the person had that day
-- (employee_history), so past days keep past departments.
CREATE VIEW analyst_adoption_daily AS
SELECT a.platform, a.activity_date, a.employee_id, h.department, h.location, h.level, h.is_manager,
  a.posts, a.replies, a.reactions, a.reads, a.chat_messages, a.channel_messages, a.meetings_attended
FROM activity_daily a
LEFT JOIN employee_history h ON h.employee_id = a.employee_id
  AND a.activity_date >= h.valid_from AND (h.valid_to IS NULL OR a.activity_date < h.valid_to);

-- Mentions per topic and UTC day, originals only (reposts and copies apart), from the hourly rollup.
CREATE VIEW analyst_topic_daily AS
SELECT topic_id, CAST(timezone('UTC', hour_start) AS DATE) AS day, sum(mentions) AS mentions,
  sum(reposts) AS reposts, sum(copies) AS copies, sum(engagement) AS engagement,
  sum(mentions) FILTER (WHERE sentiment = 'negative') AS negative,
  sum(mentions) FILTER (WHERE sentiment = 'positive') AS positive
FROM rollup_hourly GROUP BY ALL;

COMMENT ON TABLE saved_queries IS 'SQL console queries saved by analysts (name, SELECT text, who saved it).';
COMMENT ON VIEW analyst_mentions IS 'Mentions with language, sentiment in force (corrections win), model sentiment, copy flag and topic ids.';
COMMENT ON COLUMN analyst_mentions.sentiment IS 'positive | negative | neutral: a user correction when there is one, else the model.';
COMMENT ON COLUMN analyst_mentions.is_copy IS 'True for a syndicated copy of an earlier mention (counted once in volumes).';
COMMENT ON COLUMN analyst_mentions.topics IS 'Ids of the topics whose query matches the mention.';
COMMENT ON VIEW analyst_adoption_daily IS 'Daily activity per person and platform with that day''s department, location and level.';
COMMENT ON VIEW analyst_topic_daily IS 'Original mentions per topic (''*'' = all) and UTC day, by sentiment, with reposts and copies apart.';

COMMENT ON TABLE mentions IS 'Public mentions as collected, one row per (source, native_id); text is attacker-controlled.';
COMMENT ON COLUMN mentions.created_at IS 'When the item was posted (UTC); created_at_estimated when the source gave no time.';
COMMENT ON COLUMN mentions.is_repost IS 'A repost/boost of repost_of; counted apart from originals.';
COMMENT ON TABLE mention_scores IS 'Language, model sentiment and copy detection per mention, written by scoring.';
COMMENT ON COLUMN mention_scores.sentiment IS 'The model''s label; corrections are in sentiment_corrections.';
COMMENT ON COLUMN mention_scores.sentiment_score IS 'In [-1, 1]; 0 when the text carries no signal.';
COMMENT ON TABLE mention_topics IS 'Which mention belongs to which topic (topic queries matched locally).';
COMMENT ON TABLE topics IS 'Topics and their boolean queries; origin config (from the file) or user (edited in earshot).';
COMMENT ON TABLE rollup_hourly IS 'Hourly counts per topic (''*'' = all), source, language, sentiment; originals only in mentions.';
COMMENT ON TABLE alerts IS 'Volume spikes, negative surges and collection failure streaks, with their why.';
COMMENT ON TABLE sentiment_corrections IS 'Every sentiment correction made by a user; the newest per mention is in force.';
COMMENT ON TABLE collection_runs IS 'One row per collection run of a source partition, with status and error.';
COMMENT ON TABLE quarantine IS 'Payloads a collector could not parse, stored as received with the reason.';
COMMENT ON TABLE employees IS 'The org directory as it is now (personal data).';
COMMENT ON TABLE employee_history IS 'Department, location, level over time per employee; valid_to exclusive, NULL while current.';
COMMENT ON TABLE activity_daily IS 'Daily per-user activity per platform; NULL counts mean the platform does not report them.';
COMMENT ON TABLE activity_period IS 'Per-user totals over a period (Graph D7/D30..., Slack 30 days); never summed with activity_daily.';
COMMENT ON TABLE interactions IS 'Who replied to, reacted to or mentioned whom, per platform.';
