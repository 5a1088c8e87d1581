-- Sentiment corrections by users and the local model layers learned from them (issue 4, part 5).

-- Every correction ever made, kept as history; the newest per mention (corrected_at, then id) is the
-- one shown and counted in every metric.
CREATE SEQUENCE sentiment_corrections_id;
CREATE TABLE sentiment_corrections (
  id BIGINT PRIMARY KEY DEFAULT nextval('sentiment_corrections_id'),
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  -- positive | negative | neutral
  label VARCHAR NOT NULL,
  -- who corrected it: the request's name until sign-in exists
  corrected_by VARCHAR NOT NULL,
  corrected_at TIMESTAMPTZ NOT NULL,
  note VARCHAR
);

-- The label in force per corrected mention.
CREATE VIEW sentiment_corrections_latest AS
SELECT source, native_id, arg_max(label, (corrected_at, id)) AS label,
  arg_max(corrected_by, (corrected_at, id)) AS corrected_by, max(corrected_at) AS corrected_at
FROM sentiment_corrections GROUP BY source, native_id;

-- A local layer per model language, learned from this installation's corrections on top of the
-- shipped weights (which stay untouched): sparse float weight deltas. The newest version whose
-- base_model is the shipped model's id@version is applied; its id is base_model || '+local' || version.
CREATE TABLE sentiment_layers (
  lang VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  base_model VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  -- corrections trained on, and the newest ones held out for `earshot sentiment eval`
  trained INTEGER NOT NULL,
  held_out INTEGER NOT NULL,
  -- little-endian, per bucket: u32 index and 3 x f32 weight deltas (negative, neutral, positive)
  deltas BLOB NOT NULL,
  PRIMARY KEY (lang, version)
);

-- Which mentions' corrections each layer was trained on: eval never scores a layer on them.
CREATE TABLE sentiment_layer_training (
  lang VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  PRIMARY KEY (lang, version, source, native_id)
);
