-- Facts about the database file itself. 'demo' = 'true' marks a generated demo database (issue 6):
-- the dashboard shows a banner and a role switcher in place of sign-in, and no real collection
-- ever writes into it.
CREATE TABLE database_info (
  key VARCHAR PRIMARY KEY,
  value VARCHAR NOT NULL
);
