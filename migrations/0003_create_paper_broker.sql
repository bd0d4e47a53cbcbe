-- The paper broker's books, one set per paper account, in the engine's file so that a paper
-- account (its orders, fills, positions, holdings and money) survives a restart.

-- One row per paper account: its opening capital and its cash now (realised P&L and delivery
-- settlements included). Blocked margin is derived from the working orders and open positions.
CREATE TABLE paper_funds (
  account_id  TEXT PRIMARY KEY,
  capital     REAL NOT NULL,
  cash        REAL NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Every order the paper broker took, rejected ones included (a real broker shows them too).
-- seq numbers the account's orders; broker_order_id is built from it, so ids are deterministic.
CREATE TABLE paper_orders (
  broker_order_id TEXT PRIMARY KEY,
  account_id      TEXT NOT NULL REFERENCES paper_funds (account_id),
  seq             INTEGER NOT NULL,
  client_tag      TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  exchange        TEXT NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  qty             INTEGER NOT NULL CHECK (qty > 0),
  product         TEXT NOT NULL CHECK (product IN ('MIS', 'NRML', 'CNC')),
  order_type      TEXT NOT NULL CHECK (order_type IN ('MARKET', 'LIMIT', 'SL', 'SL-M')),
  price           REAL,
  trigger_price   REAL,
  status          TEXT NOT NULL CHECK (status IN ('PENDING', 'OPEN', 'TRIGGER_PENDING', 'PARTIALLY_FILLED',
                                                  'FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED')),
  filled_qty      INTEGER NOT NULL DEFAULT 0,
  avg_price       REAL NOT NULL DEFAULT 0,
  reason          TEXT,
  -- A stop whose trigger was hit (it now works as a limit or market order).
  triggered       INTEGER NOT NULL DEFAULT 0,
  -- JSON array: planned sizes of the remaining fills when the order fills in parts.
  pieces          TEXT NOT NULL DEFAULT '[]',
  fill_count      INTEGER NOT NULL DEFAULT 0,
  -- Margin blocked for the full quantity on the order's terms; released as it fills or ends.
  margin          REAL NOT NULL DEFAULT 0,
  placed_at       INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (account_id, seq),
  CHECK (filled_qty >= 0 AND filled_qty <= qty)
);
CREATE INDEX paper_orders_by_tag ON paper_orders (account_id, client_tag);
CREATE INDEX paper_orders_working ON paper_orders (account_id)
  WHERE status IN ('PENDING', 'OPEN', 'TRIGGER_PENDING', 'PARTIALLY_FILLED');

-- Every fill, recorded once (fill_id is `<order id>-F<n>`).
CREATE TABLE paper_fills (
  fill_id         TEXT PRIMARY KEY,
  broker_order_id TEXT NOT NULL REFERENCES paper_orders (broker_order_id),
  account_id      TEXT NOT NULL,
  client_tag      TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  exchange        TEXT NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  product         TEXT NOT NULL,
  qty             INTEGER NOT NULL CHECK (qty > 0),
  price           REAL NOT NULL,
  at              INTEGER NOT NULL
);
CREATE INDEX paper_fills_by_account ON paper_fills (account_id, at);

-- The position book: one row per (account, symbol, exchange, product), average-cost accounting.
CREATE TABLE paper_positions (
  account_id   TEXT NOT NULL,
  symbol       TEXT NOT NULL,
  exchange     TEXT NOT NULL,
  product      TEXT NOT NULL,
  net_qty      INTEGER NOT NULL,
  buy_qty      INTEGER NOT NULL,
  buy_value    REAL NOT NULL,
  sell_qty     INTEGER NOT NULL,
  sell_value   REAL NOT NULL,
  avg_open     REAL NOT NULL,
  realized_pnl REAL NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (account_id, symbol, exchange, product)
);

-- Delivery holdings (CNC): seeded from the account's options, moved only by CNC fills.
CREATE TABLE paper_holdings (
  account_id  TEXT NOT NULL,
  symbol      TEXT NOT NULL,
  exchange    TEXT NOT NULL,
  qty         INTEGER NOT NULL CHECK (qty > 0),
  avg_price   REAL NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, symbol, exchange)
);
