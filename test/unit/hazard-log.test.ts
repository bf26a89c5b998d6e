/**
 * The hazard log (docs/clinical-safety.md) cites each control's tests by file and exact title: every
 * cited file must exist and hold every cited title as a whole string literal, so a renamed or deleted
 * test cannot leave the log pointing at evidence that is gone.
 */
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const log = fs.readFileSync(path.join(root, 'docs', 'clinical-safety.md'), 'utf8');

/** Each citation line: "- `test/...ts` (a note): "title"; "title"". */
function citations(): Array<{ file: string; titles: string[] }> {
  const found: Array<{ file: string; titles: string[] }> = [];
  for (const line of log.split('\n')) {
    const match = /^\s*- `([^`]+\.ts)`(?: \([^)]*\))?: (.*)$/.exec(line);
    if (!match) continue;
    const titles = [...match[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\"/g, '"'));
    found.push({ file: match[1]!, titles });
  }
  return found;
}

describe('the hazard log', () => {
  const cited = citations();

  it('cites tests (the parser finds them)', () => {
    expect(cited.length).toBeGreaterThan(50);
    expect(cited.flatMap((c) => c.titles).length).toBeGreaterThan(200);
  });

  it('cites only files that exist, and titles those files hold', () => {
    const problems: string[] = [];
    for (const { file, titles } of cited) {
      const full = path.join(root, file);
      if (!fs.existsSync(full)) {
        problems.push(`no such file: ${file}`);
        continue;
      }
      const source = fs.readFileSync(full, 'utf8');
      for (const title of titles) {
        // The whole title as one string literal, in any of the three quotes (escaped where it holds that quote).
        const literals = [`'${title.replace(/'/g, "\\'")}'`, `"${title.replace(/"/g, '\\"')}"`, `\`${title}\``];
        if (!literals.some((literal) => source.includes(literal))) problems.push(`${file}: "${title}"`);
      }
    }
    expect(problems).toEqual([]);
  });
});
