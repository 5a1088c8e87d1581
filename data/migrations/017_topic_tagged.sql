-- The mentions the tag stage has matched within its re-read window (pipeline/topics/tag.ts,
-- tagNewMentions). The stage re-reads the ten minutes before its watermark, for batches that commit
-- with a collection time just below it; without this record it read every mention of those ten
-- minutes again on every run, twice per collect: after a backfill of 100,000 mentions, each collect
-- for the next ten minutes matched their text again (most of the server's JavaScript allocation in a
-- soak). Rows older than the window are removed as the watermark advances.
CREATE TABLE topic_tagged (
  source VARCHAR NOT NULL,
  native_id VARCHAR NOT NULL,
  collected_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE topic_tagged IS 'Bookkeeping of the tag stage: mentions already matched with the topics within its re-read window (ten minutes before its watermark).';
