-- The audit log (issue 7, part 6): append-only. earshot only ever inserts here; each entry carries
-- the SHA-256 of its own content and of the entry before it, so a row changed or removed outside
-- earshot breaks the chain and `earshot audit verify` finds where.
CREATE SEQUENCE audit_log_id;
CREATE TABLE audit_log (
  id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id'),
  "at" TIMESTAMPTZ NOT NULL,
  -- who: a user name, 'cli:<os user>', 'scheduler' or 'demo:<role>'
  actor VARCHAR NOT NULL,
  -- what, dotted: auth.sign_in, auth.sign_in_failed, user.role, config.change, topic.save, sql.query, export.parquet, erase.author, retention.run ...
  action VARCHAR NOT NULL,
  -- on what (a user name, topic id, file name), when there is one
  target VARCHAR,
  -- details as JSON; never secrets (passed through redact() before writing)
  detail JSON,
  prev_hash VARCHAR NOT NULL,
  hash VARCHAR NOT NULL
);
