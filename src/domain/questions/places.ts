/**
 * Finding the places a question names: the guide's trusts and hospitals by name, alias,
 * abbreviation and misspelling, other UK places (route D), and names that need a question back.
 */
import type { Guide } from '../guide/guide';
import { boundedDistance, typoAllowance, words } from './text';
import { ambiguousPlaces, notPlaceWords, otherUkPlaces } from './uk-places';

/** A trust id from the guide, or "elsewhere" for any other UK place (route D). */
export type PlaceTarget = string;

/** The target for places the guide does not list. */
export const elsewhere = 'elsewhere';

/** A place found in the question. */
export interface PlaceMatch {
  /** The words of the question that named it, as typed ("tauton"). */
  readonly words: string;
  /** The name it was recognised as ("Taunton"). */
  readonly name: string;
  /** What it can mean: one target, or several when the name is ambiguous. */
  readonly targets: readonly PlaceTarget[];
  /** True when it was recognised despite a typing error. */
  readonly corrected: boolean;
}

interface Alias {
  readonly name: string;
  readonly words: readonly string[];
  readonly targets: readonly PlaceTarget[];
  /** Misspellings are tolerated only for the guide's own names. */
  readonly fuzzy: boolean;
}

/** Finds places in question text. Built once from the guide at start. */
export interface Gazetteer {
  find(text: string): PlaceMatch[];
}

const trailingWords = new Set(['hospital', 'hospitals', 'nhs', 'trust', 'foundation']);

function aliasVariants(name: string): string[][] {
  const w = words(name);
  const variants = [w];
  // "Musgrove Park Hospital" is also said "Musgrove Park".
  let end = w.length;
  while (end > 1 && trailingWords.has(w[end - 1]!)) end -= 1;
  if (end < w.length) variants.push(w.slice(0, end));
  return variants;
}

/** Builds the place finder from the guide's trusts plus the recognition vocabulary. */
export function buildGazetteer(guide: Guide): Gazetteer {
  const aliases: Alias[] = [];
  const add = (name: string, targets: readonly PlaceTarget[], fuzzy: boolean): void => {
    for (const w of aliasVariants(name)) if (w.length > 0) aliases.push({ name, words: w, targets, fuzzy });
  };
  for (const trust of guide.trusts) {
    for (const name of [trust.name, ...trust.aliases]) add(name, [trust.id], true);
    for (const hospital of trust.hospitals) for (const name of [hospital.name, ...hospital.aliases]) add(name, [trust.id], true);
  }
  for (const [name, targets] of Object.entries(ambiguousPlaces)) add(name, targets, false);
  for (const name of otherUkPlaces) add(name, [elsewhere], false);

  // The same words may be listed for two trusts ("Taunton" is a trust alias and a hospital alias of
  // the same trust): merge them, so a name means every trust it is listed under.
  const merged = new Map<string, Alias>();
  for (const alias of aliases) {
    const key = alias.words.join(' ');
    const existing = merged.get(key);
    merged.set(
      key,
      existing
        ? { ...existing, targets: [...new Set([...existing.targets, ...alias.targets])], fuzzy: existing.fuzzy && alias.fuzzy }
        : alias,
    );
  }
  // Longest first, so "north bristol" wins over "bristol".
  const byFirstLetter = new Map<string, Alias[]>();
  for (const alias of [...merged.values()].sort((a, b) => b.words.length - a.words.length)) {
    const letter = alias.words[0]![0]!;
    byFirstLetter.set(letter, [...(byFirstLetter.get(letter) ?? []), alias]);
  }

  const wordMatches = (typed: string, wanted: string, fuzzy: boolean): 0 | 1 | -1 => {
    if (typed === wanted) return 0;
    // Plurals and possessives: "Derriford's", "Exeters".
    if (typed === `${wanted}s` || `${typed}s` === wanted) return 0;
    if (!fuzzy || notPlaceWords.has(typed)) return -1;
    const allowance = typoAllowance(wanted.length);
    return allowance > 0 && boundedDistance(typed, wanted, allowance) <= allowance ? 1 : -1;
  };

  return {
    find(text) {
      const typed = words(text);
      const found: PlaceMatch[] = [];
      let i = 0;
      while (i < typed.length) {
        let best: { alias: Alias; corrected: boolean } | null = null;
        for (const alias of byFirstLetter.get(typed[i]![0]!) ?? []) {
          if (i + alias.words.length > typed.length) continue;
          let corrected = false;
          let ok = true;
          for (let k = 0; k < alias.words.length && ok; k += 1) {
            const m = wordMatches(typed[i + k]!, alias.words[k]!, alias.fuzzy);
            if (m < 0) ok = false;
            else if (m > 0) corrected = true;
          }
          // Prefer the longest alias; among equals, an exact one.
          if (
            ok &&
            (!best ||
              alias.words.length > best.alias.words.length ||
              (best.corrected && !corrected && alias.words.length === best.alias.words.length))
          ) {
            best = { alias, corrected };
          }
        }
        if (best) {
          found.push({
            words: typed.slice(i, i + best.alias.words.length).join(' '),
            name: best.alias.name,
            targets: best.alias.targets,
            corrected: best.corrected,
          });
          i += best.alias.words.length;
        } else {
          i += 1;
        }
      }
      return found;
    },
  };
}
