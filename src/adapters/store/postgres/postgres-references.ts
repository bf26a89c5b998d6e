/**
 * The PostgreSQL store's conversation references: where to post proactive messages to a user.
 */
import type { StorePort } from '../../../ports/store-port';
import { fromReferenceRow } from '../core/store-rows';
import { checkReference } from '../core/store-rules';
import type { PostgresConnection } from './postgres-connection';
import type { ReferenceRow } from './postgres-rows';

/** The conversation references' part of the store, on `db`. */
export function postgresReferences(db: PostgresConnection): Pick<StorePort, 'saveReference' | 'referenceFor'> {
  return {
    saveReference: async (reference) => {
      db.checkOpen();
      const updatedMs = checkReference(reference);
      // One statement: a refresh replaces the saved reference whole, and two saves cannot race into a duplicate.
      await db.query(
        `INSERT INTO conversation_references (teams_user_id, conversation_id, entra_object_id, reference, updated_at, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (teams_user_id, conversation_id) DO UPDATE SET entra_object_id = EXCLUDED.entra_object_id,
           reference = EXCLUDED.reference, updated_at = EXCLUDED.updated_at, updated_at_ms = EXCLUDED.updated_at_ms`,
        [reference.teamsUserId, reference.conversationId, reference.entraObjectId, reference.reference, reference.updatedAt, updatedMs],
      );
    },

    referenceFor: async (teamsUserId, conversationId) => {
      const rows = await db.query<ReferenceRow>(
        `SELECT teams_user_id, entra_object_id, conversation_id, reference, updated_at
         FROM conversation_references WHERE teams_user_id = $1 AND conversation_id = $2`,
        [teamsUserId, conversationId],
      );
      return rows[0] ? fromReferenceRow(rows[0]) : null;
    },
  };
}
