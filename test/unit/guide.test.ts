import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadGuideFile } from '../../src/adapters/guide-file';
import { projectRoot } from '../../src/config/config';
import { allContacts, GuideError, insigniaSiteIds, isReviewOverdue, parseGuide, requiredSectionIds } from '../../src/domain/guide/guide';
import { guideFile, realGuide } from '../support/fixtures';

/** The guide's own text (the PDF's extracted text), the source of truth for every fact. */
const sourceText = fs.readFileSync(path.join(projectRoot, 'docs', 'source', 'clinicians-guide-to-image-sharing-v1.0.txt'), 'utf8');
const rawGuide = (): any => JSON.parse(fs.readFileSync(guideFile, 'utf8'));

function refusal(data: unknown): GuideError {
  try {
    parseGuide(data, realGuide().bankHolidays);
  } catch (error) {
    if (error instanceof GuideError) return error;
    throw error;
  }
  throw new Error('expected the guide to be refused');
}

describe('the guide as data', () => {
  const guide = realGuide();

  it('holds the document control of the guide', () => {
    expect(guide.document).toMatchObject({
      title: "Clinician's Guide to Image Sharing",
      version: 'v1.0',
      issueDate: '2017-05',
      reviewDate: '2018-05',
    });
    expect(sourceText).toContain(guide.document.reviewNote);
    expect(sourceText).toContain(guide.document.owner);
  });

  it('has every trust the guide names, with the ids the PACS settings use', () => {
    const ids = guide.trusts.map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining([...insigniaSiteIds, 'north-bristol', 'bath', 'taunton-yeovil', 'uh-bristol']));
    for (const trust of guide.trusts) expect(sourceText).toContain(trust.name);
  });

  it('every phone number, bleep, extension, e-mail address and web link in the data is in the guide text', () => {
    for (const contact of allContacts(guide)) {
      if (contact.href === null) continue; // link text whose target was lost: stated as lost, not invented
      expect(sourceText).toContain(contact.value);
      if (contact.href && !contact.href.startsWith('mailto:')) expect(sourceText).toContain(contact.href);
    }
  });

  it('every phone number, e-mail address and web link in the guide text is in the data', () => {
    const values = new Set(allContacts(guide).map((c) => c.value));
    const phones = sourceText.match(/\b0\d{3,4} \d{3} ?\d{3,4}\b/g) ?? [];
    const emails = sourceText.match(/[\w.]+@[\w.]+\.[a-z]+/g) ?? [];
    const links = (sourceText.match(/https?:\/\/[^\s"<>)]+/g) ?? []).map((l) => l.replace(/[.,]$/, ''));
    expect(phones.length).toBeGreaterThanOrEqual(4);
    for (const found of [...phones, ...emails, ...links]) expect(values).toContain(found);
    // Bleeps and extensions are words in the text: "bleep 2310", "Bleep 2726", "Extension 22724".
    for (const [, number] of sourceText.matchAll(/(?:bleep|extension) (\d+)/gi)) expect(values).toContain(number);
  });

  it('has the 30-day rules and the out-of-hours windows', () => {
    const everything = JSON.stringify(guide.sections);
    expect(everything.match(/30 days/g)?.length).toBeGreaterThanOrEqual(3);
    expect(guide.windows['taunton-emergency']).toMatchObject({ from: '17:00', to: '08:00' });
    expect(guide.windows['taunton-emergency'].days).toHaveLength(7);
    expect(guide.windows['normal-working-hours']).toMatchObject({
      from: '09:00',
      to: '17:00',
      bankHolidays: 'closed',
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
    });
  });

  it('explains all seven Image Sharing Status icons', () => {
    expect(guide.icons).toHaveLength(7);
  });

  it('knows its review date has passed', () => {
    expect(isReviewOverdue(guide, new Date('2018-05-31T12:00:00Z'))).toBe(false);
    expect(isReviewOverdue(guide, new Date('2018-06-01T00:00:00Z'))).toBe(true);
  });

  describe('validation names the bad field', () => {
    it.each<[string, (g: any) => void, string]>([
      [
        'a phone number that is not one',
        (g) => (g.sections['taunton-permanent'].contacts[0].value = 'call the desk'),
        'sections.taunton-permanent.contacts.0.value',
      ],
      [
        'a bleep with letters',
        (g) => (g.sections['taunton-emergency'].contacts[1].value = '23A0'),
        'sections.taunton-emergency.contacts.1.value',
      ],
      ['a missing section', (g) => delete g.sections['iep-urgent'], 'sections.iep-urgent'],
      ['an impossible time', (g) => (g.windows['normal-working-hours'].from = '25:00'), 'windows.normal-working-hours.from'],
      ['an empty heading', (g) => (g.sections['bath-access'].heading = ' '), 'sections.bath-access.heading'],
      ['an unknown field', (g) => (g.sections['bath-access'].phone = '01225 825444'), 'sections.bath-access'],
      ['a missing trust', (g) => (g.trusts = g.trusts.filter((t: any) => t.id !== 'exeter')), 'trusts'],
      ['a bad review date', (g) => (g.document.reviewDate = 'May 2018'), 'document.reviewDate'],
      ['a template expression in the text', (g) => (g.sections['bath-access'].text[0] = 'Call ${phone}'), 'sections.bath-access.text.0'],
    ])('%s', (_name, spoil, field) => {
      const data = rawGuide();
      spoil(data);
      const error = refusal(data);
      expect(error.field).toBe(field);
      expect(error.message).toContain(field);
    });
  });

  it('refuses a file that is missing or not JSON, naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guide-'));
    const bad = path.join(dir, 'guide.json');
    fs.writeFileSync(bad, '{ "document": ');
    expect(() => loadGuideFile(bad)).toThrow(/not valid JSON/);
    expect(() => loadGuideFile(path.join(dir, 'missing.json'))).toThrow(/cannot read guide file/);
    fs.rmSync(dir, { recursive: true });
  });

  it('defines every section the decision tree uses', () => {
    for (const id of requiredSectionIds) expect(guide.sections[id]).toBeDefined();
  });
});
