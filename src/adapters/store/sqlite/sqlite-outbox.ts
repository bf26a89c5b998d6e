/**
 * The SQLite store's outbox: the notifications owed to requesters (written with the state change by
 * the retrievals' part of the store), leased to one sender at a time, renewed, settled or released.
 */
import { StoreError, type Notification, type NotificationOutcome, type StorePort } from '../../../ports/store-port';
import { corrupt, fromNotificationRow } from '../core/store-rows';
import {
  applySettlement,
  checkClaim,
  checkRenewal,
  checkSettlement,
  holdsLease,
  instantMs,
  isNonEmptyString,
  type Claim,
} from '../core/store-rules';
import type { SqliteConnection } from './sqlite-connection';

/**
 * Select and lease in one IMMEDIATE transaction: no other process can write in between, so no
 * two owners ever lease the same notification (the UPDATE's guard says so again).
 */
function claimTransaction(db: SqliteConnection) {
  return db.database.transaction((owner: string, checked: Claim, limit: number): Notification[] => {
    const s = db.statements();
    const leased: Notification[] = [];
    for (const { id } of s.claimable.all({ now: checked.nowMs, lease_now: checked.leaseNowMs, limit })) {
      const result = s.lease.run({
        id,
        now: checked.nowMs,
        lease_now: checked.leaseNowMs,
        owner,
        lease_until: checked.leaseUntil,
        lease_until_ms: checked.leaseUntilMs,
      });
      if (result.changes !== 1) continue;
      const row = s.notificationById.get(id);
      if (!row) throw corrupt('notification');
      leased.push(fromNotificationRow(row));
    }
    return leased;
  });
}

/** Settles a leased notification, if `owner` still holds its lease, in one transaction. */
function settleTransaction(db: SqliteConnection) {
  return db.database.transaction((id: string, owner: string, outcome: NotificationOutcome): boolean => {
    const s = db.statements();
    const row = s.notificationById.get(id);
    if (!row) return false;
    const current = fromNotificationRow(row);
    if (!holdsLease(current, owner)) return false;
    const next = applySettlement(current, outcome);
    const result = s.settle.run({
      id,
      owner,
      state: next.state,
      next_attempt_at: next.nextAttemptAt,
      next_attempt_at_ms: instantMs(next.nextAttemptAt, 'nextAttemptAt'),
      last_error: next.lastError,
      sent_at: next.sentAt,
    });
    return result.changes === 1;
  });
}

/** The outbox's part of the store, on `db`. */
export function sqliteOutbox(
  db: SqliteConnection,
): Pick<StorePort, 'claimNotifications' | 'settleNotification' | 'notificationsFor' | 'leaseHolders' | 'renewLease' | 'releaseLeases'> {
  const claim = claimTransaction(db);
  const settle = settleTransaction(db);
  return {
    claimNotifications: (owner, now, leaseMs, limit, leaseNow) =>
      db.run(() => {
        const checked = checkClaim(owner, now, leaseMs, limit, leaseNow);
        return limit === 0 ? [] : claim.immediate(owner, checked, limit);
      }),

    settleNotification: (id, owner, outcome) =>
      db.run(() => {
        checkSettlement(id, owner, outcome);
        return settle.immediate(id, owner, outcome);
      }),

    notificationsFor: (retrievalId) => db.run(() => db.statements().notificationsFor.all(retrievalId).map(fromNotificationRow)),

    leaseHolders: () =>
      db.run(() =>
        db
          .statements()
          .leaseHolders.all()
          .map((row) => row.owner),
      ),

    renewLease: (id, owner, now, leaseMs) =>
      db.run(() => {
        const checked = checkRenewal(id, owner, now, leaseMs);
        return (
          db.statements().renewLease.run({ id, owner, lease_until: checked.leaseUntil, lease_until_ms: checked.leaseUntilMs }).changes === 1
        );
      }),

    releaseLeases: (owner) =>
      db.run(() => {
        if (!isNonEmptyString(owner)) throw new StoreError('invalid', 'releasing leases needs an owner');
        return db.statements().releaseLeases.run(owner).changes;
      }),
  };
}
