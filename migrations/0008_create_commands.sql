-- Every command, persisted before anything else happens; a command id seen again is answered
-- with its first outcome and executed no further.
CREATE TABLE commands (
  command_id      TEXT PRIMARY KEY,
  execution_type  TEXT NOT NULL CHECK (execution_type IN ('ENTRY', 'EXIT', 'ADJUST')),
  source          TEXT NOT NULL,
  account_id      TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  payload         TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('RECEIVED', 'ACCEPTED', 'REFUSED')),
  order_id        TEXT,
  trade_id        TEXT,
  reason          TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX commands_by_account ON commands (account_id, created_at);
