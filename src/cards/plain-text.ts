/**
 * Text from outside the bot (PACS study descriptions and patient names, Teams display names) is
 * shown as written and nothing more: Teams renders markdown in cards and messages, so a study
 * described as "[click here](https://...)" or "**URGENT**" must not become a link or bold text, and
 * "${...}" must not look like a card binding. Control and bidirectional-override characters (which
 * can reorder what a reader sees) go, whitespace is collapsed and the length is bounded.
 */

/** Characters that start markdown (or HTML, or a card binding) anywhere in a line. */
const inlineSpecial = /[\\`*_[\]<>~|${}]/g;
/** A line that would start a heading, quote, list or numbered list. */
const blockStart = /^([#>+-]|\d+[.)])/;
/** C0/C1 controls, zero-width and bidirectional formatting characters, lone surrogates. */
// Removing control characters is the point (a RegExp from text, so no-control-regex does not apply).
const invisible = new RegExp(
  String.raw`[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|` +
    String.raw`[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]`,
  'g',
);

/** `value` made safe to show as literal text in a card or message, at most `maxLength` characters. */
export function plainText(value: string, maxLength = 200): string {
  const cleaned = value.replace(/\s+/g, ' ').replace(invisible, '').replace(/ {2,}/g, ' ').trim();
  const chars = [...cleaned];
  const bounded = chars.length > maxLength ? `${chars.slice(0, maxLength - 1).join('')}…` : cleaned;
  const escaped = bounded.replace(inlineSpecial, (c) => `\\${c}`);
  return escaped.replace(blockStart, (start) => (/^\d/.test(start) ? `${start.slice(0, -1)}\\${start.slice(-1)}` : `\\${start}`));
}
