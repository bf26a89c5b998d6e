import fs from 'node:fs';
import path from 'node:path';
import { cardNames, type CardModels } from '../../src/cards/card-models';
import { Template } from 'adaptivecards-templating';
import { CardError, loadCardRenderer, maxCardBytes } from '../../src/cards/card-renderer';
import { contactText, noticeCard, sourceLine, stepCard } from '../../src/cards/step-cards';
import { projectRoot } from '../../src/config/config';
import { viewStep } from '../../src/domain/tree/decision-tree';
import { forward, payloadFor, start, stepIds } from '../../src/domain/tree/navigation';
import { realCards, realGuide } from '../support/fixtures';
import { london, zone } from '../support/instants';

const guide = realGuide();
const cards = realCards();

/** Element and action types that exist in Adaptive Cards 1.2 (what older Teams mobile clients render). */
const v12Types = new Set([
  'AdaptiveCard',
  'TextBlock',
  'Image',
  'Media',
  'RichTextBlock',
  'TextRun',
  'Container',
  'ColumnSet',
  'Column',
  'FactSet',
  'ImageSet',
  'ActionSet',
  'Input.Text',
  'Input.Number',
  'Input.Date',
  'Input.Time',
  'Input.Toggle',
  'Input.ChoiceSet',
  'Action.Submit',
  'Action.OpenUrl',
  'Action.ShowCard',
  'Action.ToggleVisibility',
]);

function typesIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => typesIn(n, found));
  else if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    if (typeof n.type === 'string') found.push(n.type);
    for (const [key, value] of Object.entries(n)) if (key !== 'data') typesIn(value, found);
  }
  return found;
}

function maxColumns(node: unknown): number {
  if (Array.isArray(node)) return Math.max(0, ...node.map(maxColumns));
  if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    const own = n.type === 'ColumnSet' && Array.isArray(n.columns) ? n.columns.length : 0;
    return Math.max(own, ...Object.values(n).map(maxColumns));
  }
  return 0;
}

/** Every card the bot can produce: each step (at a day and a night instant) and a notice. */
function everyCard(): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const instant of [london('2026-12-02T11:00'), london('2026-12-03T02:00'), london('2026-08-31T10:00')]) {
    for (const step of stepIds) {
      const position = step === 'menu' ? start : forward(forward(start, 'where'), step);
      out.push([`${step}@${instant.toISOString()}`, stepCard(viewStep(step, guide, { instant, zone }), position, guide, cards).content]);
    }
  }
  out.push(['notice', noticeCard('Title', ['Line'], guide, cards).content]);
  return out;
}

describe('card templates', () => {
  it('has one JSON template per card model, and no other', () => {
    const files = fs
      .readdirSync(path.join(projectRoot, 'cards'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace('.json', ''));
    expect(files.sort()).toEqual([...cardNames].sort());
  });

  it.each(everyCard())('%s fits Teams desktop and mobile', (_name, content) => {
    const json = JSON.stringify(content);
    expect(json).not.toContain('${');
    expect(Buffer.byteLength(json)).toBeLessThan(maxCardBytes);
    const card = content as { type: string; version: string; body: unknown[] };
    expect(card.type).toBe('AdaptiveCard');
    expect(Number(card.version)).toBeLessThanOrEqual(1.5);
    for (const type of typesIn(card)) expect(v12Types).toContain(type);
    expect(typesIn(card)).not.toContain('Action.Execute');
    expect(maxColumns(card)).toBeLessThanOrEqual(3);
    expect(json).toContain(sourceLine(guide));
  });

  it('expands every template from fixtures with nothing left unexpanded', () => {
    const button = { title: 'Go', data: payloadFor(start) };
    const fixtures: CardModels = {
      welcome: { title: 'T', intro: ['a'], choices: [button], source: 'S' },
      question: {
        title: 'T',
        understood: 'I read this as: x.',
        preface: ['p'],
        prompt: 'Q?',
        choices: [button, button],
        navigation: [button],
        source: 'S',
      },
      answer: {
        route: 'Guide B',
        title: 'T',
        understood: 'I read this as: y.',
        now: { headline: 'H', detail: ['d1', 'd2'] },
        sections: [
          {
            heading: 'h',
            appliesNow: true,
            text: ['t'],
            facts: [{ title: 'f', value: 'v' }],
            links: [{ title: 'l', url: 'https://example.org/' }],
          },
        ],
        related: [button],
        navigation: [button, button],
        source: 'S',
      },
      notice: {
        title: 'T',
        text: ['x'],
        links: [{ title: 'Open images', url: 'https://viewer.example/?study=1.2.3' }],
        choices: [button],
        source: 'S',
      },
      'patient-search': { title: 'T', intro: ['i'], search: { isa: 'patient-search' }, source: 'S' },
      'patient-studies': {
        title: 'T',
        banner: 'DEMO',
        identity: [{ title: 'Name', value: 'v' }],
        localStudies: ['l'],
        sites: [{ title: 'Exeter', value: 'linked' }],
        again: [{ title: 'Search Exeter again', data: { isa: 'search-site', offer: 'token' } }],
        remoteLines: ['r'],
        choices: [{ id: 'pick-0', title: 'c' }],
        pick: { isa: 'pick', offer: 'token' },
        source: 'S',
      },
      'retrieval-confirm': {
        title: 'T',
        identity: [{ title: 'Name', value: 'v' }],
        studies: ['s'],
        retention: 'kept',
        confirm: { isa: 'confirm', offer: 'token' },
        cancel: { isa: 'cancel', offer: 'token' },
        source: 'S',
      },
      'retrieval-outcome': {
        title: 'T',
        summary: 'CT Head from Exeter is now on UH Bristol PACS.',
        identity: [{ title: 'NHS number', value: '943 476 5919' }],
        links: [{ title: 'Open images', url: 'https://viewer.example/?study=1.2.3' }],
        choices: [button],
        source: 'S',
      },
    };
    for (const name of cardNames) {
      const content = cards.render(name, fixtures[name]).content as { version: string };
      const json = JSON.stringify(content);
      expect(json).not.toContain('${');
      expect(Buffer.byteLength(json)).toBeLessThan(maxCardBytes);
      expect(Number(content.version)).toBeLessThanOrEqual(1.5);
      for (const type of typesIn(content)) expect(v12Types).toContain(type);
      expect(maxColumns(content)).toBeLessThanOrEqual(3);
    }
  });

  it('refuses to send a card with a binding its data did not fill', () => {
    expect(() => cards.render('welcome', { title: 'T', intro: [], choices: [] } as never)).toThrow(CardError);
  });

  it('renders the same card from remembered JSON, a fresh object each time, and never remembers patient cards', () => {
    const renderer = loadCardRenderer(path.join(projectRoot, 'cards'));
    const expand = jest.spyOn(Template.prototype, 'expand');
    try {
      const data: CardModels['welcome'] = { title: 'T', intro: ['a'], choices: [{ title: 'Go', data: payloadFor(start) }], source: 'S' };
      const first = renderer.render('welcome', data);
      (first.content as { body: unknown[] }).body.length = 0; // a caller changing what it was given
      const second = renderer.render('welcome', { ...data });
      expect(expand).toHaveBeenCalledTimes(1);
      expect((second.content as { body: unknown[] }).body.length).toBeGreaterThan(0);
      // Different data is a different card.
      expect(JSON.stringify(renderer.render('welcome', { ...data, title: 'Other' }).content)).toContain('Other');
      expect(expand).toHaveBeenCalledTimes(2);

      const confirm: CardModels['retrieval-confirm'] = {
        title: 'T',
        identity: [{ title: 'Name', value: 'TESTPATIENT, Alice' }],
        studies: ['s'],
        retention: 'kept',
        confirm: { isa: 'confirm', offer: 'token' },
        cancel: { isa: 'cancel', offer: 'token' },
        source: 'S',
      };
      renderer.render('retrieval-confirm', confirm);
      renderer.render('retrieval-confirm', confirm);
      expect(expand).toHaveBeenCalledTimes(4);
    } finally {
      expand.mockRestore();
    }
  });

  it('refuses to start with a missing template', () => {
    expect(() => loadCardRenderer(path.join(projectRoot, 'content'))).toThrow(/card template .* is missing/);
  });

  it('carries navigation in every button: Back and Start again on every step but the menu', () => {
    for (const step of stepIds.filter((s) => s !== 'menu')) {
      const position = forward(start, step);
      const json = JSON.stringify(
        stepCard(viewStep(step, guide, { instant: london('2026-12-02T11:00'), zone }), position, guide, cards).content,
      );
      expect(json).toContain('"title":"Back"');
      expect(json).toContain('"title":"Start again"');
    }
  });

  it('says so when a link was lost from the text copy of the guide, rather than guess', () => {
    expect(contactText({ kind: 'form', label: 'RUH access form', value: 'RUH access form', href: null })).toContain(
      'not in this text copy',
    );
    expect(contactText({ kind: 'bleep', label: 'x', value: '2310' })).toBe('Bleep 2310');
  });
});
