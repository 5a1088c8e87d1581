-- Alerts (DESIGN.md section 5): volume spikes, negative-sentiment surges and collection failure
-- streaks, each with its "why", and their delivery to webhooks through an outbox.

CREATE SEQUENCE alerts_id;
CREATE TABLE alerts (
  id BIGINT PRIMARY KEY DEFAULT nextval('alerts_id'),
  -- volume_spike | negative_surge | collection_failure
  kind VARCHAR NOT NULL,
  -- what makes the alert unique (kind, topic and hour; or source, partition and the streak's first
  -- failed run), so re-running detection never stores it twice
  dedupe_key VARCHAR NOT NULL UNIQUE,
  -- NULL for collection failures
  topic_id VARCHAR,
  -- set for collection failures
  source VARCHAR,
  partition VARCHAR,
  -- the hour (or the failed runs) the alert is about
  window_start TIMESTAMPTZ NOT NULL,
  window_end TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  -- open | acked | muted (the topic was muted when it fired: stored, never delivered)
  status VARCHAR NOT NULL,
  title VARCHAR NOT NULL,
  summary VARCHAR NOT NULL,
  -- the figure that fired and the trailing baseline it was held against (NULL for failures)
  value DOUBLE,
  baseline_mean DOUBLE,
  baseline_sd DOUBLE,
  threshold DOUBLE,
  -- top terms, top sources, sentiment before and now, example mentions, failed runs
  why JSON NOT NULL,
  link VARCHAR NOT NULL,
  acked_at TIMESTAMPTZ,
  acked_by VARCHAR
);

-- The outbox: one row per alert and webhook, written in the alert's transaction. The webhook is
-- named, never its URL (a secret). Rows stay pending, retried with backoff, until delivered.
CREATE TABLE alert_deliveries (
  alert_id BIGINT NOT NULL,
  webhook VARCHAR NOT NULL,
  -- pending | delivered
  status VARCHAR NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at TIMESTAMPTZ NOT NULL,
  last_attempt_at TIMESTAMPTZ,
  delivered_at TIMESTAMPTZ,
  -- redacted
  last_error VARCHAR,
  PRIMARY KEY (alert_id, webhook)
);

-- Topics whose alerts are stored as muted (not delivered) until the given instant.
CREATE TABLE topic_mutes (
  topic_id VARCHAR PRIMARY KEY,
  until TIMESTAMPTZ NOT NULL,
  muted_at TIMESTAMPTZ NOT NULL
);
