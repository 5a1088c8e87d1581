-- Sign-in and roles (issue 6, part 4). Users are added by `earshot user add` (the first admin) or
-- by an admin on the dashboard; every change is in the audit log.
CREATE TABLE users (
  -- sign-in name: lowercase letters, digits, '.', '_', '-', '@'; 'cli' and 'demo' are reserved
  name VARCHAR PRIMARY KEY,
  -- comms | leadership | analyst | admin
  role VARCHAR NOT NULL,
  -- scrypt, self-describing: $scrypt$ln=15,r=8,p=1$<salt>$<key> (base64, no padding); never the password
  password_hash VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  last_sign_in_at TIMESTAMPTZ
);

-- Signed-in browser sessions. The cookie carries a random token; only its SHA-256 is kept here, so
-- a copy of the database signs no one in. A session ends after 12 idle hours (last_seen_at) or at
-- expires_at (7 days after sign-in), whichever comes first.
CREATE TABLE sessions (
  token_hash VARCHAR PRIMARY KEY,
  user_name VARCHAR NOT NULL,
  -- the role a demo session acts as (the demo role switcher); NULL: the user's role in `users`,
  -- read on every request so a role change or removal takes effect at once
  demo_role VARCHAR,
  -- synchronizer token every POST/PUT/PATCH/DELETE of this session must send as X-CSRF-Token
  csrf_token VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
