-- Reconciliation with the broker: orders placed outside the engine (adopted and shown, never
-- ignored) and differences between the engine's books and the broker's that nothing explains.

CREATE TABLE external_orders (
  account_id       TEXT NOT NULL,
  broker_order_id  TEXT NOT NULL,
  client_tag       TEXT,
  symbol           TEXT NOT NULL,
  exchange         TEXT NOT NULL,
  side             TEXT NOT NULL,
  product          TEXT NOT NULL,
  qty              REAL NOT NULL,
  status           TEXT NOT NULL,
  filled_qty       REAL NOT NULL,
  avg_price        REAL NOT NULL,
  first_seen_at    INTEGER NOT NULL,
  last_seen_at     INTEGER NOT NULL,
  PRIMARY KEY (account_id, broker_order_id)
);

-- One row per open question (account, kind, subject); resolved_at is set when it goes away.
CREATE TABLE reconciliation_issues (
  id             INTEGER PRIMARY KEY,
  account_id     TEXT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('position', 'order_missing', 'order_status')),
  subject        TEXT NOT NULL,
  detail         TEXT NOT NULL,
  engine_value   REAL,
  broker_value   REAL,
  first_seen_at  INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL,
  resolved_at    INTEGER,
  UNIQUE (account_id, kind, subject)
);
CREATE INDEX reconciliation_open ON reconciliation_issues (resolved_at) WHERE resolved_at IS NULL;
