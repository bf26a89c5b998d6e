/**
 * The PostgreSQL store's schema, as numbered migrations (the same history as SQLite's, in
 * PostgreSQL's types: bigint epoch-ms columns, TEXT[] lists, partial unique indexes).
 */
import type { Migration } from '../sqlite/sqlite-migrations';

/**
 * The PostgreSQL schema, as numbered migrations, oldest first. As for SQLite, a released migration
 * is never edited: a change is a new migration at the end. Tables are created unqualified, in the
 * first schema of the connection's search_path.
 */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'retrievals, retrieval transitions and the audit trail',
    sql: `
      CREATE TABLE retrievals (
        id TEXT PRIMARY KEY,
        -- Insertion order, to break ties between retrievals created at the same instant.
        seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
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
        study_modalities TEXT[] NOT NULL,
        study_instance_count INTEGER,
        state TEXT NOT NULL CHECK (state IN ('requested', 'retrieving', 'stored', 'failed')),
        pacs_job_id TEXT,
        failure_reason TEXT,
        created_at TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        updated_at TEXT NOT NULL,
        kept_until TEXT NOT NULL,
        card_activity_id TEXT
      );

      -- At most one active retrieval per site and study, whichever instance inserts it.
      CREATE UNIQUE INDEX retrievals_one_active ON retrievals (site, study_instance_uid)
        WHERE state IN ('requested', 'retrieving');
      CREATE INDEX retrievals_active ON retrievals (created_at_ms, seq)
        WHERE state IN ('requested', 'retrieving');
      CREATE INDEX retrievals_by_requester ON retrievals (requester_teams_user_id, created_at_ms, seq);

      CREATE TABLE retrieval_transitions (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        retrieval_id TEXT NOT NULL REFERENCES retrievals (id),
        from_state TEXT CHECK (from_state IN ('requested', 'retrieving', 'stored', 'failed')),
        to_state TEXT NOT NULL CHECK (to_state IN ('requested', 'retrieving', 'stored', 'failed')),
        at TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX retrieval_transitions_by_retrieval ON retrieval_transitions (retrieval_id, seq);

      CREATE TABLE audit_events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        action TEXT NOT NULL,
        teams_user_id TEXT NOT NULL,
        entra_object_id TEXT,
        display_name TEXT NOT NULL,
        nhs_number TEXT,
        site TEXT,
        studies TEXT[] NOT NULL,
        outcome TEXT NOT NULL
      );
      CREATE INDEX audit_events_by_time ON audit_events (at_ms, seq);
    `,
  },
  {
    version: 2,
    name: 'conversation references and the notification outbox',
    sql: `
      CREATE TABLE conversation_references (
        teams_user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        entra_object_id TEXT,
        reference TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_at_ms BIGINT NOT NULL,
        PRIMARY KEY (teams_user_id, conversation_id)
      );

      -- The outbox: one row per move to 'stored' or 'failed', written in the move's transaction.
      -- transition_seq is UNIQUE, so a transition owes at most one message, whoever writes it.
      CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        retrieval_id TEXT NOT NULL REFERENCES retrievals (id),
        transition_seq BIGINT NOT NULL UNIQUE REFERENCES retrieval_transitions (seq),
        kind TEXT NOT NULL CHECK (kind IN ('stored', 'failed')),
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'undeliverable')),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at TEXT NOT NULL,
        next_attempt_at_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_until TEXT,
        lease_until_ms BIGINT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        sent_at TEXT,
        -- A lease is all there or all absent, only a pending notification holds one, and only a
        -- sent one has sent_at.
        CHECK ((lease_owner IS NULL) = (lease_until IS NULL) AND (lease_until IS NULL) = (lease_until_ms IS NULL)),
        CHECK (state = 'pending' OR lease_owner IS NULL),
        CHECK ((state = 'sent') = (sent_at IS NOT NULL))
      );
      CREATE INDEX notifications_by_retrieval ON notifications (retrieval_id, created_at_ms, transition_seq);
      -- What claimNotifications scans: pending ones, oldest first.
      CREATE INDEX notifications_claimable ON notifications (created_at_ms, transition_seq) WHERE state = 'pending';
    `,
  },
  {
    version: 3,
    name: 'inbound activities already handled, and audit counts per user',
    sql: `
      -- Teams re-delivers a turn it thinks timed out: a key seen before is not handled twice.
      CREATE TABLE processed_activities (
        activity_key TEXT PRIMARY KEY,
        seen_at_ms BIGINT NOT NULL
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
        activity_key TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
        owner TEXT NOT NULL,
        claimed_at_ms BIGINT NOT NULL,
        claim_until_ms BIGINT NOT NULL,
        expires_at_ms BIGINT NOT NULL
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
      -- Each running instance beats here, by the database's clock; one silent for long enough is gone,
      -- and its leases and claims may be taken over (names cannot say so: containers share pid 1).
      CREATE TABLE owner_heartbeats (
        owner TEXT PRIMARY KEY,
        beat_at_ms BIGINT NOT NULL
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
    sql: `
      ALTER TABLE retrievals
        DROP CONSTRAINT retrievals_state_check,
        ADD CONSTRAINT retrievals_state_check CHECK (state IN ('requested', 'retrieving', 'stored', 'failed', 'cancelled')),
        ADD COLUMN study_accession_number TEXT;
      ALTER TABLE retrieval_transitions
        DROP CONSTRAINT retrieval_transitions_from_state_check,
        ADD CONSTRAINT retrieval_transitions_from_state_check
          CHECK (from_state IN ('requested', 'retrieving', 'stored', 'failed', 'cancelled')),
        DROP CONSTRAINT retrieval_transitions_to_state_check,
        ADD CONSTRAINT retrieval_transitions_to_state_check
          CHECK (to_state IN ('requested', 'retrieving', 'stored', 'failed', 'cancelled'));
    `,
  },
];
