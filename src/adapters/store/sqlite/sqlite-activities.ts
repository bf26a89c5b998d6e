/**
 * The SQLite store's claims on inbound activities (one turn per activity across processes) and its
 * owners' heartbeats (who is still alive, so whose claims and leases may be taken over).
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
import type { SqliteConnection } from './sqlite-connection';

/** How long a heartbeat waits for another process's write lock before it gives up (ms). */
const heartbeatBusyMs = 100;

/** The activity claims' part of the store, on `db`. */
export function sqliteActivities(
  db: SqliteConnection,
): Pick<StorePort, 'claimActivity' | 'finishActivity' | 'releaseActivity' | 'activityFor'> {
  let recorded = 0;
  // Read, decide and write in one IMMEDIATE transaction: no other process can claim in between.
  const claimOne = db.database.transaction((request: ActivityClaimRequest, checked: CheckedActivityClaim): ActivityClaim => {
    const s = db.statements();
    // Old keys go now and then (every pruneEvery-th claim).
    recorded += 1;
    if (recorded % pruneEvery === 0) s.pruneActivities.run(checked.atMs);
    const row = s.activityByKey.get(request.key);
    const decision = decideActivityClaim(row ? activityRecordOf(row) : null, request, checked.atMs);
    if (!decision.write) return decision.answer;
    s.claimActivity.run({
      activity_key: request.key,
      state: 'claimed',
      owner: request.owner,
      claimed_at_ms: checked.atMs,
      claim_until_ms: checked.claimUntilMs,
      expires_at_ms: checked.expiresMs,
    });
    return { outcome: 'claimed', previousOwner: decision.previousOwner };
  });

  return {
    claimActivity: (request) =>
      db.run(() => {
        const checked = checkActivityClaim(request);
        return claimOne.immediate(request, checked);
      }),

    finishActivity: (key, owner) =>
      db.run(() => {
        checkActivityKey(key);
        return db.statements().finishActivity.run(key, owner).changes === 1;
      }),

    releaseActivity: (key, owner) =>
      db.run(() => {
        checkActivityKey(key);
        return db.statements().releaseActivity.run(key, owner).changes === 1;
      }),

    activityFor: (key) =>
      db.run(() => {
        const row = db.statements().activityByKey.get(key);
        return row ? activityRecordOf(row) : null;
      }),
  };
}

/** The owners' heartbeats' part of the store, on `db`. */
export function sqliteHeartbeats(db: SqliteConnection): Pick<StorePort, 'heartbeat' | 'silentOwners' | 'retireOwner'> {
  return {
    heartbeat: (owner, at) =>
      db.run(() => {
        checkOwner(owner);
        const atMs = instantMs(at, 'at');
        // A beat must not hold the whole process up for the busy timeout while another process holds the
        // write lock (the wait is synchronous): it fails fast instead, and the next beat comes soon.
        db.database.pragma(`busy_timeout = ${heartbeatBusyMs}`);
        try {
          db.statements().heartbeat.run(owner, atMs);
        } finally {
          db.database.pragma(`busy_timeout = ${db.busyTimeoutMs}`);
        }
      }),

    silentOwners: (owners, now, silentMs) =>
      db.run(() => {
        const cutoffMs = checkSilence(owners, now, silentMs);
        return owners.filter((owner) => (db.statements().lastBeat.get(owner)?.beat_at_ms ?? Number.NEGATIVE_INFINITY) <= cutoffMs);
      }),

    retireOwner: (owner) =>
      db.run(() => {
        checkOwner(owner);
        db.statements().retireOwner.run(owner);
      }),
  };
}
