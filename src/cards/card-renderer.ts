/**
 * Expands the JSON templates in cards/ with their typed data, and checks each result against
 * what Teams (desktop and mobile) can show.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Template } from 'adaptivecards-templating';
import type { Attachment } from 'botbuilder';
import { cardNames, type CardModels, type CardName } from './card-models';
import { AppError } from '../domain/app-error';

/** Teams refuses messages over about 28 KB; stay under it. */
export const maxCardBytes = 28 * 1024;
/** Teams mobile renders Adaptive Cards up to schema 1.5. */
export const maxCardVersion = 1.5;

/** A card could not be produced: a broken template or data that does not fit. */
export class CardError extends AppError<'template-missing' | 'unexpanded' | 'too-large' | 'bad-version'> {
  override readonly name = 'CardError';
}

/** Turns a template name and its data into an Adaptive Card attachment. */
export interface CardRenderer {
  render<K extends CardName>(name: K, data: CardModels[K]): Attachment;
}

/** Rendered cards remembered (a card is a pure function of its template and data). */
const cacheSize = 512;
/** Cards that never carry patient data: only these are remembered, so no patient data lingers in memory. */
const cacheable: ReadonlySet<CardName> = new Set<CardName>(['welcome', 'question', 'answer']);

/** Loads every template from `dir` once (at start) and returns a renderer. */
export function loadCardRenderer(dir: string): CardRenderer {
  const templates = new Map<CardName, Template>();
  for (const name of cardNames) {
    const file = path.join(dir, `${name}.json`);
    if (!fs.existsSync(file)) throw new CardError('template-missing', `card template ${file} is missing`);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string };
    if (Number(json.version) > maxCardVersion) throw new CardError('bad-version', `${name}.json declares version ${json.version}`);
    templates.set(name, new Template(json));
  }
  // Expanding a template is the costliest part of a reply; the same question at the same hour, or the
  // same decision-tree step, gives the same data, so its checked JSON is kept (least recently used goes).
  const rendered = new Map<string, string>();
  return {
    render(name, data) {
      if (!cacheable.has(name)) return attachment(expand(name, data));
      const key = `${name}\u0000${JSON.stringify(data)}`;
      let json = rendered.get(key);
      if (json === undefined) {
        json = expand(name, data);
        if (rendered.size >= cacheSize) rendered.delete(rendered.keys().next().value as string);
      } else {
        rendered.delete(key);
      }
      rendered.set(key, json);
      return attachment(json);
    },
  };

  function expand<K extends CardName>(name: K, data: CardModels[K]): string {
    const template = templates.get(name);
    if (!template) throw new CardError('template-missing', `no card template ${name}`);
    const content: unknown = template.expand({ $root: data });
    const json = JSON.stringify(content);
    // Template expressions are only in the templates, so a "${" left over is a binding that failed.
    if (json.includes('${')) throw new CardError('unexpanded', `card ${name} has an unexpanded binding`);
    if (Buffer.byteLength(json) > maxCardBytes) throw new CardError('too-large', `card ${name} is ${Buffer.byteLength(json)} bytes`);
    return json;
  }
}

/** A fresh object each time: callers and botbuilder may change what they are given. */
function attachment(json: string): Attachment {
  return { contentType: 'application/vnd.microsoft.card.adaptive', content: JSON.parse(json) as unknown };
}
