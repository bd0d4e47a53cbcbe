-- The durable actor store: every actor's snapshot, the journal of every transition, the outbox of
-- declared effects and the durable timers. One step writes all of them in one transaction.

-- One row per actor: its latest snapshot and the journal seq it reflects.
CREATE TABLE actors (
  actor_id        TEXT PRIMARY KEY,
  actor_type      TEXT NOT NULL,
  machine_version TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('active', 'done')),
  state           TEXT NOT NULL,
  snapshot        TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX actors_by_status ON actors (status, actor_type);

-- Every event offered to an actor, in commit order. A refused event has a reason and changes
-- nothing; replaying the accepted rows from seq 0 rebuilds the snapshot.
CREATE TABLE journal (
  id         INTEGER PRIMARY KEY,
  actor_id   TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  event      TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  at         INTEGER NOT NULL,
  cause      TEXT,
  refused    TEXT,
  UNIQUE (actor_id, seq)
);
CREATE INDEX journal_by_at ON journal (at);

-- Declared effects, inserted with the step that declared them and marked done with the step that
-- consumed their outcome. idem_key is the effect's idempotency key (a broker order's client tag).
CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY,
  actor_id   TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  effect     TEXT NOT NULL,
  idem_key   TEXT NOT NULL UNIQUE,
  payload    TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  result     TEXT,
  created_at INTEGER NOT NULL,
  done_at    INTEGER
);
CREATE INDEX outbox_pending ON outbox (status) WHERE status = 'pending';

-- Durable timers: replaced on re-arm, deleted when fired or cancelled, re-armed at start-up.
CREATE TABLE timers (
  actor_id  TEXT NOT NULL,
  name      TEXT NOT NULL,
  due_at    INTEGER NOT NULL,
  armed_seq INTEGER NOT NULL,
  PRIMARY KEY (actor_id, name)
);
CREATE INDEX timers_by_due ON timers (due_at);
