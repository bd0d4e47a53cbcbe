-- The audit visualizer (issue 8): machine definitions by version, and the indexes its queries need
-- on a database of a million transitions (each checked with EXPLAIN QUERY PLAN in
-- test/audit/AuditStore.test.ts).

-- Each machine's statechart (src/audit/ChartDefinition.ts, JSON) as the engine ran it, recorded
-- at start per (actor type, version), so that an actor is drawn on the chart of its own version.
CREATE TABLE machine_definitions (
  actor_type  TEXT NOT NULL,
  version     TEXT NOT NULL,
  definition  TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (actor_type, version)
);

-- The actor list, newest first, paged by (created_at, actor_id); created_at never changes, so
-- these cost nothing when a step rewrites an actor's row.
CREATE INDEX actors_by_created ON actors (created_at, actor_id);
CREATE INDEX actors_by_type_created ON actors (actor_type, created_at, actor_id);

-- Filters by symbol and account, through the read models.
CREATE INDEX orders_by_symbol ON orders (symbol);
CREATE INDEX trades_by_symbol ON trades (symbol);
CREATE INDEX exit_intents_by_symbol ON exit_intents (symbol);
CREATE INDEX exit_intents_by_account ON exit_intents (user_broker_id);
CREATE INDEX exit_signals_by_account ON exit_signals (account_id);

-- The causal chain through the link columns.
CREATE INDEX exit_intents_by_trade ON exit_intents (trade_id);
CREATE INDEX exit_intents_by_signal ON exit_intents (signal_id);
CREATE INDEX exit_intents_by_order ON exit_intents (order_id);

-- What a step caused in other actors (their rows' cause is `<actorId>#<seq>`): only such rows are
-- indexed, not the ticks, timers and broker updates that make most of the journal.
CREATE INDEX journal_by_actor_cause ON journal (cause) WHERE cause GLOB '*#*';
