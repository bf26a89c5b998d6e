// Lints source texts as if they were files of the project, with only the layering rule
// (no-restricted-imports) and without type information, and prints each one's error messages.
// Run as its own process because ESLint loads eslint.config.mjs with a dynamic import, which
// jest's module sandbox does not allow. Input (stdin): [{ "file": "src/...", "source": "..." }].
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '..', '..');
const eslint = new ESLint({
  cwd: root,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
});
let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const { file, source } of JSON.parse(input)) {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  out.push(result.messages.filter((m) => m.severity === 2).map((m) => m.message));
}
process.stdout.write(JSON.stringify(out));
