/**
 * The layers' import direction is enforced by `npm run lint` (eslint.config.mjs, `layers`): an import
 * that reaches outwards fails the lint with a "Layering:" message, and the real tree has none.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/config/config';

/** The lint's errors for each probe (a source text linted as if it were `file`), from the project's own config. */
function layeringErrors(probes: ReadonlyArray<{ file: string; source: string }>): string[][] {
  const output = execFileSync(process.execPath, [path.join(projectRoot, 'test', 'support', 'lint-probe.mjs')], {
    input: JSON.stringify(probes),
    encoding: 'utf8',
  });
  return JSON.parse(output) as string[][];
}

const refused: Array<[string, string, string]> = [
  ['src/domain/time/probe.ts', "import { openStore } from '../../adapters/store/open-store';", 'the domain is pure'],
  ['src/domain/tree/probe.ts', "import fs from 'node:fs';", 'no I/O here'],
  ['src/domain/guide/probe.ts', "import type { StorePort } from '../../ports/store-port';", 'the domain is pure'],
  [
    'src/conversation/probe.ts',
    "import { openSqliteStore } from '../adapters/store/sqlite/sqlite-store';",
    'the conversation chooses words',
  ],
  ['src/conversation/probe.ts', "import { readFileSync } from 'fs';", 'no I/O here'],
  ['src/cards/probe.ts', "import { TeamsBot } from '../teams/teams-bot';", 'cards turn domain views'],
  [
    'src/retrieval/probe.ts',
    "import { createOrthancPacs } from '../adapters/pacs/orthanc-pacs';",
    'use cases reach I/O only through ports',
  ],
  ['src/adapters/store/probe.ts', "import { converse } from '../../conversation/conversation';", 'adapters implement ports'],
  [
    'src/adapters/store/sqlite/probe.ts',
    "import { pollRetrievals } from '../../../retrieval/poll-retrievals';",
    'adapters implement ports',
  ],
  ['src/teams/probe.ts', "import { openStore } from '../adapters/store/open-store';", 'the transport turns activities into calls'],
  [
    'src/teams/probe.ts',
    "import { answerQuestion } from '../domain/questions/answer-question';",
    'the transport turns activities into calls',
  ],
  ['src/ports/probe.ts', "import { loadConfig } from '../config/config';", 'ports are interfaces'],
];

const allowed: Array<[string, string]> = [
  ['src/domain/time/probe.ts', "import { DateTime } from 'luxon';\nimport type { Guide } from '../guide/guide';"],
  ['src/retrieval/probe.ts', "import type { StorePort } from '../ports/store-port';\nimport { toLocal } from '../domain/time/wall-clock';"],
  ['src/teams/probe.ts', "import { reasonOf } from '../domain/app-error';"],
  ['src/adapters/store/sqlite/probe.ts', "import { checkMove } from '../../../retrieval/retrieval-states';"],
  ['src/application.ts', "import { openStore } from './adapters/store/open-store';\nimport { TeamsBot } from './teams/teams-bot';"],
];

describe('layering, enforced by the lint', () => {
  // One lint process for every probe: loading the config is the slow part.
  let errors: string[][];
  beforeAll(() => {
    errors = layeringErrors([...refused, ...allowed].map(([file, source]) => ({ file, source: `${source}\nexport const probe = 1;\n` })));
  }, 60_000);

  it.each(refused.map((probe, i) => [...probe, i] as const))('refuses in %s: %s', (_file, _source, why, i) => {
    expect(errors[i]).toEqual([expect.stringContaining('Layering: ')]);
    expect(errors[i]![0]).toContain(why);
  });

  it.each(allowed.map((probe, i) => [...probe, refused.length + i] as const))(
    'allows in %s the imports its layer may make: %s',
    (_file, _source, i) => {
      expect(errors[i]).toEqual([]);
    },
  );
});
