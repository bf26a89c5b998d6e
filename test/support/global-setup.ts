/**
 * Builds dist/ once, before any test file runs: the tests that start the bot as a real process
 * (`node dist/src/index.js`) all use this one build, so none of them rebuilds it while another's
 * bot is starting from it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function globalSetup(): void {
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
