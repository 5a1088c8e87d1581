-- Group- and channel-level totals over a period: Microsoft Graph getYammerGroupsActivityDetail
-- (Viva Engage groups) and Slack Channel Analytics. A table of its own rather than rows in
-- activity_period: those rows are people (keyed by user, resolved to employees, counted in the
-- eligible population), and a group's posts are the sum of its members' posts, so mixing them would
-- count every post twice and make "All Company" look like a very active employee.
-- Keyed by (platform, period length, period end, group) like activity_period, so a re-export of the
-- same period replaces. Vendors give no stable group id in these files, so the name is the key.
CREATE TABLE group_activity_period (
  platform VARCHAR NOT NULL,
  period_days INTEGER NOT NULL,
  -- last day of the period (Graph: Report Refresh Date; Slack: the day in the file name)
  period_end DATE NOT NULL,
  group_name VARCHAR NOT NULL,
  -- public / private (Viva Engage); NULL where the export does not say
  group_type VARCHAR,
  is_deleted BOOLEAN,
  -- the owner's platform key (Viva Engage: UPN) and the employee it resolves to through the directory
  owner_user VARCHAR,
  owner_employee_id VARCHAR,
  created_date DATE,
  last_activity_date DATE,
  member_count INTEGER,
  guest_count INTEGER,
  posts INTEGER,
  reads INTEGER,
  reactions INTEGER,
  -- distinct members who did each (Slack); NULL counts mean "not reported", not zero
  members_who_posted INTEGER,
  members_who_read INTEGER,
  members_who_reacted INTEGER,
  import_id BIGINT NOT NULL,
  PRIMARY KEY (platform, period_days, period_end, group_name)
);
