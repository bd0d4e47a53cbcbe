-- An exit request that found a position with an exit already working (EXIT_WORKING). If that exit
-- then fails, the request would be forgotten; the row keeps it until the position is flat, and the
-- exit enforcer carries it out once nothing is working on the position any more.
CREATE TABLE pending_exits (
  account_id   TEXT NOT NULL,
  symbol       TEXT NOT NULL,
  product      TEXT NOT NULL,
  reason       TEXT NOT NULL,
  source       TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, symbol, product)
);
