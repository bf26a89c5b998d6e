/**
 * Stateless navigation: every button carries the step it leads to and the trail of steps
 * behind it, so any card, however old, still works after a restart.
 */

/** Every step of the decision tree, plus the menu and the side topics. */
export const stepIds = [
  'menu',
  'where',
  'p2p-registered',
  'p2p-not-linked',
  'urgency',
  'route-a',
  'route-b-north-bristol',
  'route-b-bath',
  'route-b-taunton',
  'route-c',
  'route-d-urgent',
  'route-d-routine',
  'export',
  'icons',
  'about',
  'uh-bristol',
  'find-images',
] as const;

/** A step of the tree. */
export type StepId = (typeof stepIds)[number];

/** Where a button takes the clinician: the step and the steps behind it (for "Back"). */
export interface Position {
  readonly step: StepId;
  readonly trail: readonly StepId[];
  /** The instant asked about (ISO), when a typed question set one; otherwise each press uses its own time. */
  readonly at?: string;
}

/** Kind marker carried in every navigation button's data. */
export const navigationKind = 'nav';

/** What a navigation button sends back (the Action.Submit data). */
export interface NavigationPayload {
  readonly isa: typeof navigationKind;
  readonly step: StepId;
  readonly trail: readonly StepId[];
  readonly at?: string;
}

/** The longest trail kept; deeper history is dropped from the front. */
export const maxTrail = 10;

/** Where the tree starts. */
export const start: Position = { step: 'menu', trail: [] };

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/** True for a known step id. */
export function isStepId(value: unknown): value is StepId {
  return typeof value === 'string' && (stepIds as readonly string[]).includes(value);
}

/** Why a submitted payload is not a usable navigation. */
export type NavigationRejection = 'not-navigation' | 'unknown-step' | 'bad-trail' | 'bad-time';

/** Reads a button's data; anything tampered with or from a retired card is rejected with a reason. */
export function parseNavigation(value: unknown): { ok: true; position: Position } | { ok: false; reason: NavigationRejection } {
  if (typeof value !== 'object' || value === null || (value as { isa?: unknown }).isa !== navigationKind) {
    return { ok: false, reason: 'not-navigation' };
  }
  const { step, trail, at } = value as { step?: unknown; trail?: unknown; at?: unknown };
  if (!isStepId(step)) return { ok: false, reason: 'unknown-step' };
  if (at !== undefined && (typeof at !== 'string' || !isoInstant.test(at) || Number.isNaN(Date.parse(at))))
    return { ok: false, reason: 'bad-time' };
  const when = at === undefined ? {} : { at };
  if (trail === undefined) return { ok: true, position: { step, trail: [], ...when } };
  if (!Array.isArray(trail) || trail.length > maxTrail || !trail.every(isStepId)) return { ok: false, reason: 'bad-trail' };
  return { ok: true, position: { step, trail, ...when } };
}

/** The position reached by pressing a choice that leads to `target`. */
export function forward(from: Position, target: StepId): Position {
  return { step: target, trail: [...from.trail, from.step].slice(-maxTrail), ...(from.at ? { at: from.at } : {}) };
}

/** The position "Back" leads to, or null at the start. */
export function back(from: Position): Position | null {
  const previous = from.trail.at(-1);
  return previous === undefined ? null : { step: previous, trail: from.trail.slice(0, -1), ...(from.at ? { at: from.at } : {}) };
}

/** The button data for a position. */
export function payloadFor(position: Position): NavigationPayload {
  return { isa: navigationKind, step: position.step, trail: position.trail, ...(position.at ? { at: position.at } : {}) };
}
