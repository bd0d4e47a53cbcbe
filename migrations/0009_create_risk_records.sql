-- The risk manager's records (issue 5), for diagnostics: every command it refused, with the code
-- and reason also written on the order, and every intervention of the continuous enforcer.

CREATE TABLE risk_blocks (
  block_id        INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id      TEXT NOT NULL,
  command_id      TEXT NOT NULL,
  execution_type  TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  side            TEXT NOT NULL,
  qty             REAL NOT NULL,
  code            TEXT NOT NULL,
  reason          TEXT NOT NULL,
  at              INTEGER NOT NULL
);
CREATE INDEX risk_blocks_by_account ON risk_blocks (account_id, at);

-- kind: POSITION_CAP, DAILY_LOSS, FORCED_UNWIND; action: halt, reduce, resume, exit.
CREATE TABLE risk_interventions (
  intervention_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id       TEXT NOT NULL,
  kind             TEXT NOT NULL,
  action           TEXT NOT NULL,
  detail           TEXT NOT NULL,
  orders           INTEGER NOT NULL DEFAULT 0,
  at               INTEGER NOT NULL
);
CREATE INDEX risk_interventions_by_account ON risk_interventions (account_id, at);
