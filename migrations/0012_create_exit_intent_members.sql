-- A position's exit: one exit intent over several trades of one broker position (its members,
-- exitIntent `members`), so that an exit request places one order per position, not one per trade.
-- One row per member, written with the intent's first commit and never changed: the gates find a
-- trade's live intents through it whether the trade leads the intent (exit_intents.trade_id) or not.
CREATE TABLE exit_intent_members (
  trade_id  TEXT NOT NULL,
  intent_id TEXT NOT NULL REFERENCES exit_intents (intent_id),
  qty       INTEGER NOT NULL CHECK (qty > 0),
  PRIMARY KEY (trade_id, intent_id)
) WITHOUT ROWID;
CREATE INDEX exit_intent_members_by_intent ON exit_intent_members (intent_id);
