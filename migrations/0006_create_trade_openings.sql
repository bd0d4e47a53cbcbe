-- Trades waiting for their entry order (issue 4's stand-in for the entry pipeline): the entry
-- order's parent_id is the trade id; when the order executes, the trade manager opens the trade
-- with the order's fills and these levels. Written before the order is spawned.
CREATE TABLE trade_openings (
  trade_id    TEXT PRIMARY KEY,
  order_id    TEXT NOT NULL UNIQUE,
  account_id  TEXT NOT NULL,
  symbol      TEXT NOT NULL,
  exchange    TEXT NOT NULL,
  product     TEXT NOT NULL,
  direction   TEXT NOT NULL CHECK (direction IN ('LONG', 'SHORT')),
  stop_loss   REAL,
  target      REAL,
  trailing    TEXT,
  status      TEXT NOT NULL CHECK (status IN ('PENDING', 'OPENED', 'FAILED')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX trade_openings_pending ON trade_openings (status) WHERE status = 'PENDING';
