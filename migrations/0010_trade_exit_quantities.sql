-- trade@2: what a trade's exits took (exited_qty, never above qty) and what they took beyond it
-- (excess_qty: an anomaly, e.g. a late fill of an ended exit intent's order after the trade's
-- next exit had already filled). Existing rows are filled from their actors' snapshots.
ALTER TABLE trades ADD COLUMN exited_qty INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trades ADD COLUMN excess_qty INTEGER NOT NULL DEFAULT 0;
UPDATE trades SET exited_qty = COALESCE(
  (SELECT json_extract(a.snapshot, '$.context.exitedQty') FROM actors a WHERE a.actor_id = trades.trade_id), 0);
CREATE INDEX trades_with_excess ON trades (trade_id) WHERE excess_qty > 0;
