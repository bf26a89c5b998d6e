/**
 * The SQLite store's schema, as numbered migrations. A migration, once released, is never edited:
 * a change to the schema is a new migration at the end of the list.
 */
import type Database from 'better-sqlite3';
import { StoreError, type MigrationReport } from '../../../ports/store-port';

/** One step of the schema's history. */
export interface Migration {
  /** 1, 2, 3, ... in order, with no gaps. */
  readonly version: number;
  /** What it does, kept in schema_migrations for whoever opens the file by hand. */
  readonly name: string;
  readonly sql: string;
  /**
   * True for a migration that rebuilds tables other tables refer to (SQLite cannot alter a CHECK):
   * it runs with foreign keys off, and the references are checked before it commits.
   */
  readonly rebuildsTables?: boolean;
}

/**
 * Every migration, oldest first. Instants are kept twice: as given (so they read back exactly) and
 * as epoch milliseconds in `*_ms` columns (so ordering and filtering do not depend on how an
 * offset was written).
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'retrievals, retrieval transitions and the audit trail',
    sql: `
      CREATE TABLE retrievals (
        id TEXT PRIMARY KEY NOT NULL,
        requester_teams_user_id TEXT NOT NULL,
        requester_entra_object_id TEXT,
        requester_display_name TEXT NOT NULL,
        requester_tenant_id TEXT,
        requester_conversation_id TEXT NOT NULL,
        site TEXT NOT NULL,
        nhs_number TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        study_date TEXT,
        study_description TEXT NOT NULL,
        study_modalities TEXT NOT NULL,
        study_instance_count INTEGER,
        state TEXT NOT NULL CHECK (state IN ('requested', 'retrieving', 'stored', 'failed')),
        pacs_job_id TEXT,
        failure_reason TEXT,
        created_at TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        kept_until TEXT NOT NULL,
        card_activity_id TEXT
      );

      -- At most one active retrieval per site and study, whichever process inserts it.
      CREATE UNIQUE INDEX retrievals_one_active ON retrievals (site, study_instance_uid)
        WHERE state IN ('requested', 'retrieving');
      CREATE INDEX retrievals_active ON retrievals (created_at_ms)
        WHERE state IN ('requested', 'retrieving');
      CREATE INDEX retrievals_by_requester ON retrievals (requester_teams_user_id, created_at_ms);

      CREATE TABLE retrieval_transitions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        retrieval_id TEXT NOT NULL REFERENCES retrievals (id),
        from_state TEXT CHECK (from_state IN ('requested', 'retrieving', 'stored', 'failed')),
        to_state TEXT NOT NULL CHECK (to_state IN ('requested', 'retrieving', 'stored', 'failed')),
        at TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX retrieval_transitions_by_retrieval ON retrieval_transitions (retrieval_id, seq);

      CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        action TEXT NOT NULL,
        teams_user_id TEXT NOT NULL,
        entra_object_id TEXT,
        display_name TEXT NOT NULL,
        nhs_number TEXT,
        site TEXT,
        studies TEXT NOT NULL,
        outcome TEXT NOT NULL
      );
      CREATE INDEX audit_events_by_time ON audit_events (at_ms, seq);
    `,
  },
  {
    version: 2,
    name: 'conversation references and the notification outbox',
    sql: `
      -- Where to reach a user in a conversation, for proactive messages: one row per user and
      -- conversation, refreshed in place.
      CREATE TABLE conversation_references (
        teams_user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        entra_object_id TEXT,
        reference TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (teams_user_id, conversation_id)
      );

      -- The outbox: one row per move to 'stored' or 'failed', written in the move's transaction.
      -- transition_seq is UNIQUE, so a transition owes at most one message, whoever writes it.
      CREATE TABLE notifications (
        id TEXT PRIMARY KEY NOT NULL,
        retrieval_id TEXT NOT NULL REFERENCES retrievals (id),
        transition_seq INTEGER NOT NULL UNIQUE REFERENCES retrieval_transitions (seq),
        kind TEXT NOT NULL CHECK (kind IN ('stored', 'failed')),
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'undeliverable')),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at TEXT NOT NULL,
        next_attempt_at_ms INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until TEXT,
        lease_until_ms INTEGER,
        last_error TEXT,
        created_at TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        sent_at TEXT,
        -- A lease is all there or all absent, only a pending notification holds one, and only a
        -- sent one has sent_at.
        CHECK ((lease_owner IS NULL) = (lease_until IS NULL) AND (lease_until IS NULL) = (lease_until_ms IS NULL)),
        CHECK (state = 'pending' OR lease_owner IS NULL),
        CHECK ((state = 'sent') = (sent_at IS NOT NULL))
      );
      CREATE INDEX notifications_claimable ON notifications (state, next_attempt_at_ms);
      CREATE INDEX notifications_by_retrieval ON notifications (retrieval_id, created_at_ms, transition_seq);
    `,
  },
  {
    version: 3,
    name: 'inbound activities already handled, and audit counts per user',
    sql: `
      -- Teams re-delivers a turn it thinks timed out: a key seen before is not handled twice.
      CREATE TABLE processed_activities (
        activity_key TEXT PRIMARY KEY NOT NULL,
        seen_at_ms INTEGER NOT NULL
      );
      CREATE INDEX processed_activities_by_age ON processed_activities (seen_at_ms);
      -- The patient-search rate limit counts a user's recent searches.
      CREATE INDEX audit_events_by_user ON audit_events (teams_user_id, action, at_ms);
    `,
  },
  {
    version: 4,
    name: 'inbound activities claimed by a turn, then done',
    sql: `
      -- A turn claims its activity (owner, lease), then marks it done; a re-delivery is ignored only
      -- when that turn finished or its owner is alive and within the lease.
      CREATE TABLE activity_claims (
        activity_key TEXT PRIMARY KEY NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
        owner TEXT NOT NULL,
        claimed_at_ms INTEGER NOT NULL,
        claim_until_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
      );
      CREATE INDEX activity_claims_by_expiry ON activity_claims (expires_at_ms);
      -- Keys recorded before claims existed keep their meaning: handled, for 24 hours from when seen.
      INSERT INTO activity_claims (activity_key, state, owner, claimed_at_ms, claim_until_ms, expires_at_ms)
        SELECT activity_key, 'done', 'before-claims', seen_at_ms, seen_at_ms, seen_at_ms + 86400000 FROM processed_activities;
      DROP TABLE processed_activities;
    `,
  },
  {
    version: 5,
    name: 'heartbeats of running instances',
    sql: `
      -- Each running instance beats here; one silent for long enough is gone, and its leases and claims
      -- may be taken over (names alone cannot say so: containers share pid 1, cloned hosts share names).
      CREATE TABLE owner_heartbeats (
        owner TEXT PRIMARY KEY NOT NULL,
        beat_at_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: "retrievals by study (a study's history on the studies card)",
    sql: `
      CREATE INDEX retrievals_by_study ON retrievals (study_instance_uid, created_at_ms);
    `,
  },
  {
    version: 7,
    name: 'a retrieval may be cancelled; the accession number of its study',
    rebuildsTables: true,
    // SQLite's procedure for changing a CHECK: a new table, the rows copied, the old one dropped.
    sql: `
      CREATE TABLE retrievals_v7 (
        id TEXT PRIMARY KEY NOT NULL,
        requester_teams_user_id TEXT NOT NULL,
        requester_entra_object_id TEXT,
        requester_display_name TEXT NOT NULL,
        requester_tenant_id TEXT,
        requester_conversation_id TEXT NOT NULL,
        site TEXT NOT NULL,
        nhs_number TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        study_date TEXT,
        study_description TEXT NOT NULL,
        study_modalities TEXT NOT NULL,
        study_instance_count INTEGER,
        state TEXT NOT NULL CHECK (state IN ('requested', 'retrieving', 'stored', 'failed', 'cancelled')),
        pacs_job_id TEXT,
        failure_reason TEXT,
        created_at TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        kept_until TEXT NOT NULL,
        card_activity_id TEXT,
        study_accession_number TEXT
      );
      -- rowid too: it breaks ties between retrievals created in the same millisecond.
      INSERT INTO retrievals_v7 (
        rowid, id, requester_teams_user_id, requester_entra_object_id, requester_display_name, requester_tenant_id,
        requester_conversation_id, site, nhs_number, study_instance_uid, study_date, study_description,
        study_modalities, study_instance_count, state, pacs_job_id, failure_reason, created_at, created_at_ms,
        updated_at, kept_until, card_activity_id
      )
      SELECT
        rowid, id, requester_teams_user_id, requester_entra_object_id, requester_display_name, requester_tenant_id,
        requester_conversation_id, site, nhs_number, study_instance_uid, study_date, study_description,
        study_modalities, study_instance_count, state, pacs_job_id, failure_reason, created_at, created_at_ms,
        updated_at, kept_until, card_activity_id
      FROM retrievals;
      DROP TABLE retrievals;
      ALTER TABLE retrievals_v7 RENAME TO retrievals;
      CREATE UNIQUE INDEX retrievals_one_active ON retrievals (site, study_instance_uid)
        WHERE state IN ('requested', 'retrieving');
      CREATE INDEX retrievals_active ON retrievals (created_at_ms)
        WHERE state IN ('requested', 'retrieving');
      CREATE INDEX retrievals_by_requester ON retrievals (requester_teams_user_id, created_at_ms);
      CREATE INDEX retrievals_by_study ON retrievals (study_instance_uid, created_at_ms);

      CREATE TABLE retrieval_transitions_v7 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        retrieval_id TEXT NOT NULL REFERENCES retrievals (id),
        from_state TEXT CHECK (from_state IN ('requested', 'retrieving', 'stored', 'failed', 'cancelled')),
        to_state TEXT NOT NULL CHECK (to_state IN ('requested', 'retrieving', 'stored', 'failed', 'cancelled')),
        at TEXT NOT NULL,
        detail TEXT
      );
      INSERT INTO retrieval_transitions_v7 (seq, retrieval_id, from_state, to_state, at, detail)
        SELECT seq, retrieval_id, from_state, to_state, at, detail FROM retrieval_transitions;
      DROP TABLE retrieval_transitions;
      ALTER TABLE retrieval_transitions_v7 RENAME TO retrieval_transitions;
      CREATE INDEX retrieval_transitions_by_retrieval ON retrieval_transitions (retrieval_id, seq);
    `,
  },
];

/**
 * Brings the database up to the latest migration. Each migration runs in its own IMMEDIATE
 * transaction that first checks whether another process has applied it meanwhile, so two
 * processes starting at once apply every migration exactly once (the loser waits on the write
 * lock for up to busy_timeout, then finds it done).
 */
export function runMigrations(db: Database.Database, list: readonly Migration[] = migrations): MigrationReport {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const latestKnown = list.reduce((max, m) => Math.max(max, m.version), 0);
  const newest = db.prepare<[], { version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations').get()?.version ?? 0;
  // A file written by a newer build may hold tables this build would misuse: stop rather than guess.
  if (newest > latestKnown) {
    throw new StoreError('unavailable', `the database is at schema version ${newest}, newer than this build knows (${latestKnown})`);
  }
  const isApplied = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string, string]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const migration of list) {
    const apply = db.transaction(() => {
      if (isApplied.get(migration.version)) return;
      db.exec(migration.sql);
      // A rebuild ran with foreign keys off: every reference must still hold before it commits.
      if (migration.rebuildsTables && (db.pragma('foreign_key_check') as unknown[]).length > 0) {
        throw new StoreError(
          'invalid',
          `the database holds references to rows that are gone (found by migration ${migration.version}, which was not applied)`,
        );
      }
      record.run(migration.version, migration.name, new Date().toISOString());
      applied.push(migration.version);
    });
    // Foreign keys can be switched only outside a transaction; they are on again whatever happens.
    const keysOn = migration.rebuildsTables === true && db.pragma('foreign_keys', { simple: true }) === 1;
    if (keysOn) db.pragma('foreign_keys = OFF');
    try {
      apply.immediate();
    } finally {
      if (keysOn) db.pragma('foreign_keys = ON');
    }
  }
  return { applied, version: Math.max(newest, latestKnown) };
}
