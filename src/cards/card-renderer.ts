/**
 * Expands the JSON templates in cards/ with their typed data, and checks each result against
 * what Teams (desktop and mobile) can show.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Template } from 'adaptivecards-templating';
import type { Attachment } from 'botbuilder';
import { cardNames, type CardModels, type CardName } from './card-models';

/** Teams refuses messages over about 28 KB; stay under it. */
export const maxCardBytes = 28 * 1024;
/** Teams mobile renders Adaptive Cards up to schema 1.5. */
export const maxCardVersion = 1.5;

/** A card could not be produced: a broken template or data that does not fit. */
export class CardError extends Error {
  override readonly name = 'CardError';
  constructor(
    readonly reason: 'template-missing' | 'unexpanded' | 'too-large' | 'bad-version',
    message: string,
  ) {
    super(message);
  }
}

/** Turns a template name and its data into an Adaptive Card attachment. */
export interface CardRenderer {
  render<K extends CardName>(name: K, data: CardModels[K]): Attachment;
}

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
  return {
    render(name, data) {
      const template = templates.get(name);
      if (!template) throw new CardError('template-missing', `no card template ${name}`);
      const content: unknown = template.expand({ $root: data });
      const json = JSON.stringify(content);
      // Template expressions are only in the templates, so a "${" left over is a binding that failed.
      if (json.includes('${')) throw new CardError('unexpanded', `card ${name} has an unexpanded binding`);
      if (Buffer.byteLength(json) > maxCardBytes) throw new CardError('too-large', `card ${name} is ${Buffer.byteLength(json)} bytes`);
      return { contentType: 'application/vnd.microsoft.card.adaptive', content };
    },
  };
}
