/**
 * The shape of the source that `npm run lint` cannot see: no line of src/ over 140 characters (the
 * formatter's width; it does not break long strings, so they are joined from parts instead), and no
 * file over 450 lines (a file that grows past it holds more than one concern: split it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/config/config';

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the shape of src/', () => {
  const files = sourceFiles(path.join(projectRoot, 'src'));

  it('has no line over 140 characters', () => {
    const long = files.flatMap((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.length > 140 ? [`${path.relative(projectRoot, file)}:${i + 1} (${line.length})`] : [])),
    );
    expect(long).toEqual([]);
  });

  it('has no file over 450 lines', () => {
    const long = files.flatMap((file) => {
      const lines = fs.readFileSync(file, 'utf8').split('\n').length;
      return lines > 450 ? [`${path.relative(projectRoot, file)} (${lines} lines)`] : [];
    });
    expect(long).toEqual([]);
  });
});
