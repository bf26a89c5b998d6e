/**
 * The PostgreSQL store's claims on inbound activities (one turn per activity across instances) and
 * its owners' heartbeats (who is still alive, so whose claims and leases may be taken over).
 */
import type { ActivityClaim, ActivityClaimRequest, StorePort } from '../../../ports/store-port';
import {
  activityRecordOf,
  checkActivityClaim,
  checkActivityKey,
  checkOwner,
  checkSilence,
  decideActivityClaim,
  instantMs,
  pruneEvery,
  type CheckedActivityClaim,
} from '../core/store-rules';
import { toStoreError, type PostgresConnection } from './postgres-connection';
import type { ActivityRow } from './postgres-rows';

/** Marks an owner's claim on an activity key done ($1 the key, $2 the owner); returns the key if it did. */
export const finishSql =
  "UPDATE activity_claims SET state = 'done' WHERE activity_key = $1 AND owner = $2 AND state = 'claimed' RETURNING activity_key";

/** Read, decide and write under the row's lock (or the key's insert): two owners never both claim a live key. */
async function claimActivity(db: PostgresConnection, request: ActivityClaimRequest, checked: CheckedActivityClaim): Promise<ActivityClaim> {
  try {
    return await db.transaction(async (client) => {
      // A new key: inserted as claimed, or (another instance inserting it at once) waited for, then read below.
      const inserted = await client.query(
        `INSERT INTO activity_claims (activity_key, state, owner, claimed_at_ms, claim_until_ms, expires_at_ms)
         VALUES ($1, 'claimed', $2, $3, $4, $5) ON CONFLICT (activity_key) DO NOTHING RETURNING activity_key`,
        [request.key, request.owner, checked.atMs, checked.claimUntilMs, checked.expiresMs],
      );
      if (inserted.rows.length === 1) return { outcome: 'claimed', previousOwner: null };
      const found = await client.query<ActivityRow>('SELECT * FROM activity_claims WHERE activity_key = $1 FOR UPDATE', [request.key]);
      const row = found.rows[0];
      const decision = decideActivityClaim(row ? activityRecordOf(row) : null, request, checked.atMs);
      if (!decision.write) return decision.answer;
      await client.query(
        `INSERT INTO activity_claims (activity_key, state, owner, claimed_at_ms, claim_until_ms, expires_at_ms)
         VALUES ($1, 'claimed', $2, $3, $4, $5)
         ON CONFLICT (activity_key) DO UPDATE SET state = 'claimed', owner = EXCLUDED.owner, claimed_at_ms = EXCLUDED.claimed_at_ms,
           claim_until_ms = EXCLUDED.claim_until_ms, expires_at_ms = EXCLUDED.expires_at_ms`,
        [request.key, request.owner, checked.atMs, checked.claimUntilMs, checked.expiresMs],
      );
      return { outcome: 'claimed', previousOwner: decision.previousOwner };
    });
  } catch (error) {
    throw toStoreError(error);
  }
}

/** The activity claims' part of the store, on `db`. */
export function postgresActivities(
  db: PostgresConnection,
): Pick<StorePort, 'claimActivity' | 'finishActivity' | 'releaseActivity' | 'activityFor'> {
  // Claims recorded by this store: old keys are pruned every pruneEvery-th claim.
  let recorded = 0;
  return {
    claimActivity: async (request) => {
      db.checkOpen();
      const checked = checkActivityClaim(request);
      recorded += 1;
      if (recorded % pruneEvery === 0) await db.query('DELETE FROM activity_claims WHERE expires_at_ms <= $1', [checked.atMs]);
      return claimActivity(db, request, checked);
    },

    finishActivity: async (key, owner) => {
      db.checkOpen();
      checkActivityKey(key);
      return (await db.query(finishSql, [key, owner])).length === 1;
    },

    releaseActivity: async (key, owner) => {
      db.checkOpen();
      checkActivityKey(key);
      return (
        (
          await db.query(
            "DELETE FROM activity_claims WHERE activity_key = $1 AND owner = $2 AND state = 'claimed' RETURNING activity_key",
            [key, owner],
          )
        ).length === 1
      );
    },

    activityFor: async (key) => {
      const rows = await db.query<ActivityRow>('SELECT * FROM activity_claims WHERE activity_key = $1', [key]);
      return rows[0] ? activityRecordOf(rows[0]) : null;
    },
  };
}

/** The owners' heartbeats' part of the store, on `db`. */
export function postgresHeartbeats(db: PostgresConnection): Pick<StorePort, 'heartbeat' | 'silentOwners' | 'retireOwner'> {
  return {
    heartbeat: async (owner, at) => {
      db.checkOpen();
      checkOwner(owner);
      await db.query(
        'INSERT INTO owner_heartbeats (owner, beat_at_ms) VALUES ($1, $2) ON CONFLICT (owner) DO ' +
          'UPDATE SET beat_at_ms = GREATEST(owner_heartbeats.beat_at_ms, excluded.beat_at_ms)',
        [owner, instantMs(at, 'at')],
      );
    },

    silentOwners: async (owners, now, silentMs) => {
      db.checkOpen();
      const cutoffMs = checkSilence(owners, now, silentMs);
      if (owners.length === 0) return [];
      const rows = await db.query<{ owner: string }>(
        'SELECT owner FROM owner_heartbeats WHERE owner = ANY($1::text[]) AND beat_at_ms > $2',
        [[...owners], cutoffMs],
      );
      const beating = new Set(rows.map((row) => row.owner));
      return owners.filter((owner) => !beating.has(owner));
    },

    retireOwner: async (owner) => {
      db.checkOpen();
      checkOwner(owner);
      await db.query('DELETE FROM owner_heartbeats WHERE owner = $1', [owner]);
    },
  };
}
