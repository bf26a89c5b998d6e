/**
 * The SQLite store's conversation references: where to post proactive messages to a user.
 */
import type { StorePort, StoredReference } from '../../../ports/store-port';
import { fromReferenceRow } from '../core/store-rows';
import { checkReference } from '../core/store-rules';
import type { SqliteConnection } from './sqlite-connection';

/** The conversation references' part of the store, on `db`. */
export function sqliteReferences(db: SqliteConnection): Pick<StorePort, 'saveReference' | 'referenceFor'> {
  const upsertReference = db.database.transaction((reference: StoredReference, updatedMs: number): void => {
    db.statements().saveReference.run({
      teams_user_id: reference.teamsUserId,
      conversation_id: reference.conversationId,
      entra_object_id: reference.entraObjectId,
      reference: reference.reference,
      updated_at: reference.updatedAt,
      updated_at_ms: updatedMs,
    });
  });

  return {
    saveReference: (reference) =>
      db.run(() => {
        const updatedMs = checkReference(reference);
        upsertReference.immediate(reference, updatedMs);
      }),

    referenceFor: (teamsUserId, conversationId) =>
      db.run(() => {
        const row = db.statements().referenceFor.get(teamsUserId, conversationId);
        return row ? fromReferenceRow(row) : null;
      }),
  };
}
