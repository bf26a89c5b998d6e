/**
 * Text from the PACS or Teams is shown literally: no markdown, HTML or card binding survives, no
 * invisible or reordering characters, bounded length; ordinary clinical text is left readable.
 */
import { plainText } from '../../src/cards/plain-text';

describe('plainText', () => {
  it('leaves ordinary study descriptions and names alone', () => {
    for (const text of ['CT Head', 'XR Chest PA/LAT', 'MR Knee (Left) 3.0T', "O'BRIEN, Siân", 'US Abdomen + Pelvis', 'Dr Ó Briain 李'])
      expect(plainText(text)).toBe(text);
  });

  it.each([
    ['**URGENT**', '\\*\\*URGENT\\*\\*'],
    ['[click here](https://evil.example)', '\\[click here\\](https://evil.example)'],
    ['<script>alert(1)</script>', '\\<script\\>alert(1)\\</script\\>'],
    ['${secret}', '\\$\\{secret\\}'],
    ['_x_ `code` ~~y~~ | z', '\\_x\\_ \\`code\\` \\~\\~y\\~\\~ \\| z'],
    ['# Heading', '\\# Heading'],
    ['- item', '\\- item'],
    ['> quote', '\\> quote'],
    ['1. first', '1\\. first'],
    ['back\\slash', 'back\\\\slash'],
  ])('shows %j literally', (input, expected) => {
    expect(plainText(input)).toBe(expected);
  });

  it('removes controls, zero-width and bidirectional overrides, and lone surrogates; collapses whitespace', () => {
    expect(plainText('CT\u0000 Head\u202e\u200b\n\n\tAxial\ud800')).toBe('CT Head Axial');
    expect(plainText('  \u0007 ')).toBe('');
    expect(plainText('emoji 🩻 stays')).toBe('emoji 🩻 stays');
  });

  it('bounds the length without splitting a character', () => {
    const long = '🩻'.repeat(500);
    const shown = plainText(long, 50);
    expect([...shown]).toHaveLength(50);
    expect(shown.endsWith('…')).toBe(true);
    expect(plainText('a'.repeat(10_000)).length).toBe(200);
  });
});
