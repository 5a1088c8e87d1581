-- Adoption analytics of the internal network (DESIGN.md section 6). Everything here is written by
-- `earshot import`; one import (all the files of one command) is one transaction.
-- Instants are TIMESTAMPTZ in UTC; days are DATE as the vendor reports them (vendors report days in
-- UTC, so no zone conversion happens on import).

-- Every import, remembered by the hash of the file's bytes so the same file twice changes nothing.
CREATE SEQUENCE imports_id;
CREATE TABLE imports (
  id BIGINT PRIMARY KEY DEFAULT nextval('imports_id'),
  file_name VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  -- sha256 of the bytes, hex; a file is skipped when its hash is already here
  content_hash VARCHAR NOT NULL UNIQUE,
  -- rows written per table, e.g. {"activity_period": 7}
  rows JSON NOT NULL,
  imported_at TIMESTAMPTZ NOT NULL
);

-- The org directory as it is now: one row per employee, replaced by each directory import.
-- Metrics that need "department at the time" read employee_history instead.
CREATE TABLE employees (
  employee_id VARCHAR PRIMARY KEY,
  email VARCHAR,
  display_name VARCHAR,
  department VARCHAR,
  location VARCHAR,
  level VARCHAR,
  is_manager BOOLEAN NOT NULL,
  is_executive BOOLEAN NOT NULL,
  manager_id VARCHAR,
  hire_date DATE,
  -- leave date; the employee is eligible for no window that reaches past it
  term_date DATE,
  updated_at TIMESTAMPTZ NOT NULL
);

-- Slowly changing history of what groups people by (department, location, level, leadership,
-- manager): one row per stretch of days with the same values, valid_from inclusive, valid_to
-- exclusive, NULL while current. A directory import that sees a change closes the open row on the
-- directory's as-of day and opens a new one, so last quarter's figures keep last quarter's
-- departments. The first row of an employee starts at the hire date (or the as-of day when unknown).
CREATE TABLE employee_history (
  employee_id VARCHAR NOT NULL,
  valid_from DATE NOT NULL,
  valid_to DATE,
  department VARCHAR,
  location VARCHAR,
  level VARCHAR,
  is_manager BOOLEAN NOT NULL,
  is_executive BOOLEAN NOT NULL,
  manager_id VARCHAR,
  PRIMARY KEY (employee_id, valid_from)
);

-- Platform user key -> employee. The directory fills platform '*' (its emails and employee ids
-- match on every platform); a platform-specific row (a Slack id, a Salesforce id) wins over '*'.
-- user_key is stored lower-cased: UPNs and emails are case-insensitive.
CREATE TABLE identity_map (
  platform VARCHAR NOT NULL,
  user_key VARCHAR NOT NULL,
  employee_id VARCHAR NOT NULL,
  -- directory | manual | ...: which import said so
  origin VARCHAR NOT NULL,
  PRIMARY KEY (platform, user_key)
);

-- Platform keys seen in imports that no directory entry matches; listed for the analyst instead of
-- being dropped. The activity rows are kept with employee_id NULL and are resolved when a later
-- directory import matches them (this table then forgets the key).
CREATE TABLE unmatched_identities (
  platform VARCHAR NOT NULL,
  user_key VARCHAR NOT NULL,
  -- rows of the latest import that carry the key
  rows BIGINT NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  last_file VARCHAR NOT NULL,
  PRIMARY KEY (platform, user_key)
);

-- Daily per-user activity, for sources with a daily grain. Keyed by (platform, day, user) so a later
-- export that overlaps an earlier one replaces those days instead of counting them twice.
-- NULL counts mean "this source does not report it", not zero.
CREATE TABLE activity_daily (
  platform VARCHAR NOT NULL,
  activity_date DATE NOT NULL,
  -- the platform's key for the user (UPN, email, Slack id; the employee id in canonical files)
  user_key VARCHAR NOT NULL,
  employee_id VARCHAR,
  posts INTEGER,
  replies INTEGER,
  reactions INTEGER,
  reads INTEGER,
  chat_messages INTEGER,
  channel_messages INTEGER,
  meetings_attended INTEGER,
  import_id BIGINT NOT NULL,
  PRIMARY KEY (platform, activity_date, user_key)
);

-- Per-user totals over a period (Graph reports D7/D30/D90/D180, Slack "Prior 30 days"), for sources
-- that give no daily grain. Never summed with activity_daily: metrics say which grain they use.
-- Keyed by (platform, period length, period end, user): the same period re-exported replaces.
CREATE TABLE activity_period (
  platform VARCHAR NOT NULL,
  period_days INTEGER NOT NULL,
  -- last day of the period (Graph: Report Refresh Date)
  period_end DATE NOT NULL,
  user_key VARCHAR NOT NULL,
  employee_id VARCHAR,
  last_activity_date DATE,
  active_days INTEGER,
  posts INTEGER,
  replies INTEGER,
  reactions INTEGER,
  reads INTEGER,
  chat_messages INTEGER,
  channel_messages INTEGER,
  calls INTEGER,
  meetings INTEGER,
  meetings_attended INTEGER,
  -- licensing decides eligibility where the export says it (Teams "Is Licensed")
  is_licensed BOOLEAN,
  assigned_products VARCHAR,
  -- Activated / Suspended / Deleted (Viva Engage), deleted (Teams)
  user_state VARCHAR,
  import_id BIGINT NOT NULL,
  PRIMARY KEY (platform, period_days, period_end, user_key)
);

-- Who interacted with whom: reply, reaction, mention. No vendor id exists in the canonical file, so
-- the key is the event itself; re-importing it replaces rather than duplicates.
CREATE TABLE interactions (
  platform VARCHAR NOT NULL,
  event_ts TIMESTAMPTZ NOT NULL,
  from_user VARCHAR NOT NULL,
  to_user VARCHAR NOT NULL,
  interaction_type VARCHAR NOT NULL,
  from_employee_id VARCHAR,
  to_employee_id VARCHAR,
  thread_id VARCHAR,
  import_id BIGINT NOT NULL,
  PRIMARY KEY (platform, event_ts, from_user, to_user, interaction_type)
);

-- Conversations and whether (and how fast) someone answered: the responsiveness metrics.
CREATE TABLE threads (
  platform VARCHAR NOT NULL,
  thread_id VARCHAR NOT NULL,
  group_name VARCHAR,
  author_user VARCHAR NOT NULL,
  author_employee_id VARCHAR,
  created_ts TIMESTAMPTZ NOT NULL,
  is_question BOOLEAN NOT NULL,
  first_reply_ts TIMESTAMPTZ,
  first_reply_user VARCHAR,
  first_reply_employee_id VARCHAR,
  import_id BIGINT NOT NULL,
  PRIMARY KEY (platform, thread_id)
);

-- Weekly email and meeting volume per employee: the baseline for the email/meeting change metric
-- (difference in differences). week_start is the Monday the vendor's week begins.
CREATE TABLE comm_volume_weekly (
  week_start DATE NOT NULL,
  employee_id VARCHAR NOT NULL,
  emails_sent INTEGER,
  emails_received INTEGER,
  meetings_attended INTEGER,
  meeting_hours DOUBLE,
  import_id BIGINT NOT NULL,
  PRIMARY KEY (week_start, employee_id)
);
