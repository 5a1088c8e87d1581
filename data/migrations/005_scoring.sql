-- Scoring of public mentions (DESIGN.md section 5): one row of scores per mention, and rollups the
-- dashboard and the spike detector read instead of scanning raw mentions.
-- Scores live beside mentions, not in them: re-seen mentions rewrite their engagement counts, and
-- scoring must not race with that.

-- Language, sentiment and copy detection per mention, written by the scoring stage.
CREATE TABLE mention_scores (
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  -- ko | en | ja | zh | other: the platform's tag when it gave one, else detected
  lang VARCHAR NOT NULL,
  -- platform | detected
  lang_origin VARCHAR NOT NULL,
  -- positive | negative | neutral, as the model said (a user correction overrides it when shown)
  sentiment VARCHAR NOT NULL,
  -- in [-1, 1]; 0 with neutral when the text carries no signal
  sentiment_score DOUBLE NOT NULL,
  -- model id and version that scored it, e.g. 'en-linear@1'; a new version re-scores in bulk
  sentiment_model VARCHAR NOT NULL,
  -- the first-stored mention this one is a copy of (same canonical URL or near-duplicate text across
  -- sources); NULL for originals. Copies stay listed but count once in volume, share of voice, spikes.
  copy_of_source VARCHAR,
  copy_of_id VARCHAR,
  -- the mention's URL normalised (scheme, www., m./amp variants, trailing slash, tracking parameters
  -- dropped): one article reached through several sources has one canonical URL
  canonical_url VARCHAR,
  -- hash of the folded title (publisher suffix dropped) or, without a title, of the text's first
  -- words; NULL when too short to say anything. Equal signatures across sources mark a copy.
  text_sig VARCHAR,
  scored_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (source, native_id)
);

-- Hourly counts per topic ('*' = every mention) x source x language x sentiment. hour_start is the
-- instant the hour begins in the reporting time zone; days and weeks are sums of local hours.
-- mentions counts originals once (no reposts, no syndicated copies); reposts and copies apart.
CREATE TABLE rollup_hourly (
  topic_id VARCHAR NOT NULL,
  hour_start TIMESTAMPTZ NOT NULL,
  source VARCHAR NOT NULL,
  lang VARCHAR NOT NULL,
  sentiment VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  reposts BIGINT NOT NULL,
  copies BIGINT NOT NULL,
  -- likes + reposts + replies of the originals, as last seen
  engagement BIGINT NOT NULL,
  -- sum of the authors' followers at the time of the mention
  reach BIGINT NOT NULL,
  PRIMARY KEY (topic_id, hour_start, source, lang, sentiment)
);

-- Term counts per topic and hour, for trending terms (Korean particles stripped, stop words dropped).
CREATE TABLE rollup_terms_hourly (
  topic_id VARCHAR NOT NULL,
  hour_start TIMESTAMPTZ NOT NULL,
  term VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  PRIMARY KEY (topic_id, hour_start, term)
);

-- Authors per topic and local day, for opinion leaders and new voices.
CREATE TABLE rollup_authors_daily (
  topic_id VARCHAR NOT NULL,
  day DATE NOT NULL,
  source VARCHAR NOT NULL,
  author_id VARCHAR NOT NULL,
  mentions BIGINT NOT NULL,
  engagement BIGINT NOT NULL,
  followers BIGINT,
  PRIMARY KEY (topic_id, day, source, author_id)
);

-- Which mentions contain which normalised term (folded, Korean particle stripped, stop words
-- dropped): text search without the fts extension. Written with the mention's scores.
CREATE TABLE mention_terms (
  term VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL
);

-- Local hours (reporting time zone) whose rollups are out of date: queued in the transaction that
-- scores or re-scores their mentions, emptied in the transaction that recomputes them, so a crash
-- between the two never loses a change.
CREATE TABLE rollup_dirty (
  hour_start TIMESTAMPTZ PRIMARY KEY
);
