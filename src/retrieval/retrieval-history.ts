/**
 * What a clinician can see of retrievals: their own recent ones (with whether their notification
 * could be delivered), the ones confirmed on one status card, and each study's last retrieval by
 * anyone (a colleague may have pulled it an hour ago).
 */
import type { Retrieval, StorePort } from '../ports/store-port';

/** One of a clinician's retrievals, and whether a notification about it could not be delivered. */
export interface RetrievalRecord {
  readonly retrieval: Retrieval;
  readonly undeliverable: boolean;
}

/** The clinician's retrievals, newest first: `limit` of them after the `offset` newest (a page of "my retrievals"). */
export async function recentRetrievals(store: StorePort, teamsUserId: string, limit: number, offset = 0): Promise<RetrievalRecord[]> {
  const recent = await store.retrievalsFor(teamsUserId, limit, offset);
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

/** How many retrievals one history look-up reads at most (newest first), and how many studies it names. */
const historyLookback = 500;
const historySlice = 200;

/** The last retrieval of each of these studies into UH Bristol's PACS, by anyone, by StudyInstanceUID. */
export async function lastRetrievals(store: StorePort, studyInstanceUids: readonly string[]): Promise<Map<string, Retrieval>> {
  const uids = [...new Set(studyInstanceUids)];
  const last = new Map<string, Retrieval>();
  if (uids.length === 0) return last;
  // A patient with hundreds of studies is asked about in slices (the store takes a bounded list).
  for (let i = 0; i < uids.length; i += historySlice) {
    for (const retrieval of await store.retrievalsOfStudies(uids.slice(i, i + historySlice), historyLookback)) {
      const uid = retrieval.study.studyInstanceUid;
      if (!last.has(uid)) last.set(uid, retrieval);
    }
  }
  return last;
}
