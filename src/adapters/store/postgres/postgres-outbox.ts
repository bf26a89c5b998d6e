/**
 * The PostgreSQL store's outbox: the notifications owed to requesters (written with the state change
 * by the retrievals' part of the store), leased to one sender at a time, renewed, settled or released.
 */
import { StoreError, type Notification, type NotificationOutcome, type StorePort } from '../../../ports/store-port';
import { fromNotificationRow } from '../core/store-rows';
import { applySettlement, checkClaim, checkRenewal, checkSettlement, holdsLease, instantMs } from '../core/store-rules';
import type { PostgresConnection } from './postgres-connection';
import { notificationColumns, type NotificationRow } from './postgres-rows';

async function claimNotifications(
  db: PostgresConnection,
  owner: string,
  now: string,
  leaseMs: number,
  limit: number,
  leaseNow?: string,
): Promise<Notification[]> {
  db.checkOpen();
  const claim = checkClaim(owner, now, leaseMs, limit, leaseNow);
  if (limit === 0) return [];
  // One statement, so atomic without an explicit transaction: SKIP LOCKED passes over rows that
  // another claim is taking right now, and FOR UPDATE re-checks (on the newest row version) that a
  // row is still claimable, so a row claimed and committed since this statement began is left out.
  const rows = await db.query<NotificationRow>(
    `WITH claimed AS (
       UPDATE notifications SET attempts = attempts + 1, lease_owner = $1, lease_until = $2, lease_until_ms = $3
       WHERE id IN (
         SELECT id FROM notifications
         WHERE state = 'pending' AND next_attempt_at_ms <= $4 AND (lease_until_ms IS NULL OR lease_until_ms <= $6)
         ORDER BY created_at_ms, transition_seq
         LIMIT $5
         FOR UPDATE SKIP LOCKED
       )
       RETURNING ${notificationColumns}, created_at_ms, transition_seq
     )
     SELECT ${notificationColumns} FROM claimed ORDER BY created_at_ms, transition_seq`,
    [owner, claim.leaseUntil, claim.leaseUntilMs, claim.nowMs, limit, claim.leaseNowMs],
  );
  return rows.map(fromNotificationRow);
}

async function settleNotification(db: PostgresConnection, id: string, owner: string, outcome: NotificationOutcome): Promise<boolean> {
  db.checkOpen();
  checkSettlement(id, owner, outcome);
  return db.write(async (client) => {
    // The row lock keeps a claim by another owner out until this settlement is written.
    const found = await client.query<NotificationRow>(`SELECT ${notificationColumns} FROM notifications WHERE id = $1 FOR UPDATE`, [id]);
    const row = found.rows[0];
    if (!row) return false;
    const current = fromNotificationRow(row);
    if (!holdsLease(current, owner)) return false;
    const next = applySettlement(current, outcome);
    const settled = await client.query(
      `UPDATE notifications SET state = $3, next_attempt_at = $4, next_attempt_at_ms = $5, last_error = $6, sent_at = $7,
         lease_owner = NULL, lease_until = NULL, lease_until_ms = NULL
       WHERE id = $1 AND state = 'pending' AND lease_owner = $2`,
      [id, owner, next.state, next.nextAttemptAt, instantMs(next.nextAttemptAt, 'nextAttemptAt'), next.lastError, next.sentAt],
    );
    return settled.rowCount === 1;
  });
}

/** The outbox's part of the store, on `db`. */
export function postgresOutbox(
  db: PostgresConnection,
): Pick<StorePort, 'claimNotifications' | 'settleNotification' | 'notificationsFor' | 'leaseHolders' | 'releaseLeases' | 'renewLease'> {
  return {
    claimNotifications: (owner, now, leaseMs, limit, leaseNow) => claimNotifications(db, owner, now, leaseMs, limit, leaseNow),
    settleNotification: (id, owner, outcome) => settleNotification(db, id, owner, outcome),

    notificationsFor: async (retrievalId) =>
      (
        await db.query<NotificationRow>(
          `SELECT ${notificationColumns} FROM notifications WHERE retrieval_id = $1 ORDER BY created_at_ms, transition_seq`,
          [retrievalId],
        )
      ).map(fromNotificationRow),

    leaseHolders: async () =>
      (
        await db.query<{ owner: string }>(
          "SELECT DISTINCT lease_owner AS owner FROM notifications WHERE state = 'pending' AND lease_owner IS NOT NULL ORDER BY owner",
        )
      ).map((row) => row.owner),

    releaseLeases: async (owner) => {
      db.checkOpen();
      if (typeof owner !== 'string' || owner.trim() === '') throw new StoreError('invalid', 'releasing leases needs an owner');
      const rows = await db.query(
        'UPDATE notifications SET lease_owner = NULL, lease_until = NULL, lease_until_ms = NULL ' +
          "WHERE state = 'pending' AND lease_owner = $1 RETURNING id",
        [owner],
      );
      return rows.length;
    },

    renewLease: async (id, owner, now, leaseMs) => {
      db.checkOpen();
      const checked = checkRenewal(id, owner, now, leaseMs);
      const rows = await db.query(
        'UPDATE notifications SET lease_until = $3, lease_until_ms = $4 WHERE id = $1 AND state = ' +
          "'pending' AND lease_owner = $2 RETURNING id",
        [id, owner, checked.leaseUntil, checked.leaseUntilMs],
      );
      return rows.length === 1;
    },
  };
}
