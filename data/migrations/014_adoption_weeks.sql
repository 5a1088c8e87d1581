-- The adoption report's complete weeks, kept between reports (issue 5: the full report at 20,000
-- employees in under 2 s). A week's figures change only when the adoption data does, so:
-- 1. adoption_data holds one number, raised in the same transaction as every write to the adoption
--    tables (imports, collectors' batches, employee erasure), which also empties the cache.
-- 2. adoption_week_figures holds each week's rows BEFORE privacy (people per combination of groups,
--    and each breakdown's counts): the report applies privacy to them exactly as to fresh rows.
--    Keyed by everything they depend on: the data version, the formula's version (code), the
--    reporting time zone, the day licences are read as of (the window's last day), the week and the
--    part (people, or a breakdown such as 'by:department').

CREATE TABLE adoption_data (
  only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
  version BIGINT NOT NULL
);
INSERT INTO adoption_data VALUES (true, 0);

CREATE TABLE adoption_week_figures (
  data_version BIGINT NOT NULL,
  formula INTEGER NOT NULL,
  time_zone VARCHAR NOT NULL,
  licensed_as_of DATE NOT NULL,
  span_start DATE NOT NULL,
  span_end DATE NOT NULL,
  part VARCHAR NOT NULL,
  rows VARCHAR NOT NULL,
  PRIMARY KEY (data_version, formula, time_zone, licensed_as_of, span_start, span_end, part)
);
