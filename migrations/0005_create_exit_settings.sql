-- Exit pipeline settings (issue 4): dark mode, execution enabled per account and per symbol, and
-- exit halts per account. Written before they take effect and read at start: they survive restarts.

-- Named settings: dark_mode, account_default, symbol_default ('1' or '0').
CREATE TABLE exit_settings (
  name        TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Execution enabled (1) or disabled (0) for one account or one symbol; absent: the scope's default.
CREATE TABLE exit_execution_flags (
  scope       TEXT NOT NULL CHECK (scope IN ('account', 'symbol')),
  name        TEXT NOT NULL,
  enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (scope, name)
);

-- Accounts whose exits the operator halted: their exit intents are rejected with ACCOUNT_HALTED.
CREATE TABLE exit_halts (
  account_id  TEXT PRIMARY KEY,
  reason      TEXT NOT NULL,
  since       INTEGER NOT NULL
);
