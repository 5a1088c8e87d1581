-- Which stored mentions belong to which topic, from matching the topic's query locally. Re-tagging a
-- topic replaces only its own rows, so editing one topic never touches another's tags.
CREATE TABLE mention_topics (
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  topic_id VARCHAR NOT NULL,
  PRIMARY KEY (source, native_id, topic_id)
);
