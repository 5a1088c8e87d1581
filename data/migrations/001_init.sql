-- Public mentions, one row per item a source returned, keyed by where it came from.
-- Re-seen items update engagement and seen_at; they never make a second row.
CREATE TABLE mentions (
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  partition VARCHAR NOT NULL,
  channel VARCHAR,
  url VARCHAR,
  title VARCHAR,
  text VARCHAR NOT NULL,
  lang VARCHAR,
  author_id VARCHAR,
  author_handle VARCHAR,
  author_name VARCHAR,
  author_followers BIGINT,
  created_at TIMESTAMPTZ NOT NULL,
  created_at_estimated BOOLEAN NOT NULL,
  collected_at TIMESTAMPTZ NOT NULL,
  seen_at TIMESTAMPTZ NOT NULL,
  likes BIGINT,
  reposts BIGINT,
  replies BIGINT,
  views BIGINT,
  parent_id VARCHAR,
  conversation_id VARCHAR,
  is_repost BOOLEAN NOT NULL,
  repost_of VARCHAR,
  raw JSON,
  PRIMARY KEY (source, native_id)
);

-- Who wrote the mentions, per source; refreshed from mentions after each run.
CREATE TABLE authors (
  source VARCHAR NOT NULL,
  author_id VARCHAR NOT NULL,
  handle VARCHAR,
  name VARCHAR,
  followers BIGINT,
  first_seen TIMESTAMPTZ NOT NULL,
  last_seen TIMESTAMPTZ NOT NULL,
  mentions BIGINT NOT NULL,
  PRIMARY KEY (source, author_id)
);

-- Where each (source, partition) stopped; written in the same transaction as the rows it covers.
CREATE TABLE bookmarks (
  source VARCHAR NOT NULL,
  partition VARCHAR NOT NULL,
  state JSON NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (source, partition)
);

CREATE SEQUENCE collection_runs_id;
CREATE TABLE collection_runs (
  id BIGINT PRIMARY KEY DEFAULT nextval('collection_runs_id'),
  source VARCHAR NOT NULL,
  partition VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  -- running | ok | error | rate_limited | aborted | interrupted
  status VARCHAR NOT NULL,
  rows BIGINT NOT NULL DEFAULT 0,
  new_rows BIGINT NOT NULL DEFAULT 0,
  quarantined BIGINT NOT NULL DEFAULT 0,
  error VARCHAR,
  resume_after TIMESTAMPTZ
);

CREATE SEQUENCE quarantine_id;
CREATE TABLE quarantine (
  id BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id'),
  source VARCHAR NOT NULL,
  partition VARCHAR NOT NULL,
  received_at TIMESTAMPTZ NOT NULL,
  url VARCHAR,
  error VARCHAR NOT NULL,
  raw VARCHAR NOT NULL
);

-- Calls made against shared daily quotas (Naver's 25,000 a day), by provider and quota day.
CREATE TABLE api_budget (
  provider VARCHAR NOT NULL,
  day DATE NOT NULL,
  calls BIGINT NOT NULL,
  PRIMARY KEY (provider, day)
);

-- Progress of derived tables (authors, later scores), so a crash never leaves them behind.
CREATE TABLE pipeline_state (
  stage VARCHAR NOT NULL,
  key VARCHAR NOT NULL,
  through TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (stage, key)
);

-- What users edit at run time. The config file seeds these (origin = 'config'); rows changed at
-- run time (origin = 'user') are never overwritten by the file again.
CREATE TABLE topics (
  id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  keywords VARCHAR[] NOT NULL,
  query VARCHAR,
  comparison_set VARCHAR,
  origin VARCHAR NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE source_settings (
  source VARCHAR PRIMARY KEY,
  schedule VARCHAR NOT NULL,
  enabled BOOLEAN NOT NULL,
  origin VARCHAR NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);

-- Facts about the database file itself (e.g. demo = true).
CREATE TABLE meta (
  key VARCHAR PRIMARY KEY,
  value VARCHAR NOT NULL
);
