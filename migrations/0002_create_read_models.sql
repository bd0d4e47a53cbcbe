-- Read models: one row per actor, replaced in the same transaction as the actor's snapshot.
-- The journal stays the source of truth; these tables are for queries, constraints and people.

CREATE TABLE accounts (
  account_id     TEXT PRIMARY KEY,
  state          TEXT NOT NULL,
  forced_unwind  INTEGER NOT NULL DEFAULT 0,
  reason         TEXT,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE trades (
  trade_id       TEXT PRIMARY KEY,
  account_id     TEXT NOT NULL,
  symbol         TEXT NOT NULL,
  exchange       TEXT NOT NULL,
  product        TEXT NOT NULL,
  direction      TEXT NOT NULL CHECK (direction IN ('LONG', 'SHORT')),
  qty            REAL NOT NULL,
  entry_price    REAL NOT NULL,
  stop_loss      REAL,
  target         REAL,
  trailing       TEXT,
  trail_level    REAL,
  episode        INTEGER NOT NULL DEFAULT 0,
  status         TEXT NOT NULL,
  state          TEXT NOT NULL,
  exit_reason    TEXT,
  exit_price     REAL,
  realized_pnl   REAL,
  opened_at      INTEGER NOT NULL,
  closed_at      INTEGER,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX trades_open_by_symbol ON trades (symbol) WHERE status <> 'CLOSED';
CREATE INDEX trades_by_account ON trades (account_id, status);

-- Stage 2 of the exit plan: unique on (trade, reason, episode); the cooldown lives here.
CREATE TABLE exit_signals (
  signal_id       TEXT PRIMARY KEY,
  trade_id        TEXT NOT NULL,
  account_id      TEXT NOT NULL,
  exit_reason     TEXT NOT NULL,
  episode_id      INTEGER NOT NULL,
  detected_price  REAL,
  status          TEXT NOT NULL,
  state           TEXT NOT NULL,
  detected_at     INTEGER NOT NULL,
  published_at    INTEGER,
  cooldown_until  INTEGER,
  updated_at      INTEGER NOT NULL,
  UNIQUE (trade_id, exit_reason, episode_id)
);

-- No exit intent without its signal; at most one live intent per (trade, account, reason, episode).
CREATE TABLE exit_intents (
  intent_id       TEXT PRIMARY KEY,
  signal_id       TEXT NOT NULL REFERENCES exit_signals (signal_id),
  trade_id        TEXT NOT NULL,
  user_broker_id  TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  exit_reason     TEXT NOT NULL,
  episode_id      INTEGER NOT NULL,
  side            TEXT NOT NULL,
  qty             REAL NOT NULL,
  filled_qty      REAL NOT NULL DEFAULT 0,
  avg_price       REAL,
  status          TEXT NOT NULL,
  state           TEXT NOT NULL,
  reject_code     TEXT,
  error           TEXT,
  order_id        TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  deleted_at      INTEGER
);
CREATE UNIQUE INDEX exit_intents_idempotency
  ON exit_intents (trade_id, user_broker_id, exit_reason, episode_id) WHERE deleted_at IS NULL;
CREATE INDEX exit_intents_by_status ON exit_intents (status);

CREATE TABLE orders (
  order_id         TEXT PRIMARY KEY,
  account_id       TEXT NOT NULL,
  symbol           TEXT NOT NULL,
  exchange         TEXT NOT NULL,
  side             TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  qty              REAL NOT NULL,
  product          TEXT NOT NULL,
  order_type       TEXT NOT NULL,
  price            REAL,
  trigger_price    REAL,
  client_tag       TEXT NOT NULL UNIQUE,
  purpose          TEXT NOT NULL,
  parent_id        TEXT,
  broker_order_id  TEXT,
  status           TEXT NOT NULL,
  state            TEXT NOT NULL,
  filled_qty       REAL NOT NULL DEFAULT 0,
  avg_price        REAL NOT NULL DEFAULT 0,
  reason           TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX orders_by_status ON orders (status);
CREATE INDEX orders_by_account_symbol ON orders (account_id, symbol);
CREATE INDEX orders_by_broker_id ON orders (broker_order_id);
CREATE INDEX orders_by_parent ON orders (parent_id);
