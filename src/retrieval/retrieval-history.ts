/**
 * What a clinician can see of their retrievals: the recent ones (with whether their notification
 * could be delivered) and the ones confirmed on one status card.
 */
import type { Retrieval, StorePort } from '../ports/store-port';

/** One of a clinician's retrievals, and whether a notification about it could not be delivered. */
export interface RetrievalRecord {
  readonly retrieval: Retrieval;
  readonly undeliverable: boolean;
}

/** The clinician's `limit` most recent retrievals, newest first. */
export async function recentRetrievals(store: StorePort, teamsUserId: string, limit: number): Promise<RetrievalRecord[]> {
  const recent = await store.retrievalsFor(teamsUserId, limit);
  const records: RetrievalRecord[] = [];
  for (const retrieval of recent) {
    const notes = await store.notificationsFor(retrieval.id);
    records.push({ retrieval, undeliverable: notes.some((n) => n.state === 'undeliverable') });
  }
  return records;
}

/** How far back a status card's studies are looked for among the requester's retrievals. */
const cardLookback = 50;

/** Every retrieval confirmed on the same status card as `retrieval` (itself included); none when it has no card. */
export async function retrievalsOnCard(store: StorePort, retrieval: Retrieval): Promise<Retrieval[]> {
  if (!retrieval.cardActivityId) return [];
  return (await store.retrievalsFor(retrieval.requester.teamsUserId, cardLookback)).filter(
    (r) => r.cardActivityId === retrieval.cardActivityId,
  );
}
