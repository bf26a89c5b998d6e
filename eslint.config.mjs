// @ts-check
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Local rule: every source file name is kebab-case (the house style). */
const kebabCase = {
  meta: { type: 'suggestion', schema: [], messages: { bad: 'File name "{{name}}" is not kebab-case.' } },
  create(context) {
    return {
      Program(node) {
        const base = path.basename(context.filename).replace(/(\.d)?(\.contract)?(\.test)?\.[cm]?[jt]s$/, '');
        if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(base)) {
          context.report({ node, messageId: 'bad', data: { name: path.basename(context.filename) } });
        }
      },
    };
  },
};

/** Node modules that do I/O: the pure layers (domain, cards) may not import them. */
const nodeIo = ['fs', 'fs/promises', 'http', 'https', 'net', 'child_process', 'dgram', 'dns', 'tls', 'worker_threads', 'cluster'].flatMap(
  (m) => [m, `node:${m}`],
);

/**
 * The layers' import direction (README, "Layout"): each entry forbids a layer's files to import the
 * named folders of src/. Inner layers never reach outwards, and only the composition root
 * (application.ts, index.ts) sees every layer.
 */
const layers = [
  {
    files: ['src/domain/**/*.ts'],
    forbid: ['ports', 'adapters', 'conversation', 'retrieval', 'teams', 'cards', 'config', 'logging', 'audit'],
    io: true,
    why: 'the domain is pure: it imports only the domain (and zod, luxon)',
  },
  {
    files: ['src/cards/**/*.ts'],
    forbid: ['ports', 'adapters', 'conversation', 'retrieval', 'teams', 'config', 'logging', 'audit'],
    io: false,
    why: 'cards turn domain views into card JSON',
  },
  {
    files: ['src/ports/**/*.ts'],
    forbid: ['adapters', 'conversation', 'retrieval', 'teams', 'cards', 'config', 'logging', 'audit'],
    io: true,
    why: 'ports are interfaces and their types',
  },
  {
    files: ['src/retrieval/**/*.ts', 'src/audit/**/*.ts'],
    forbid: ['adapters', 'conversation', 'teams', 'cards', 'config'],
    io: false,
    why: 'use cases reach I/O only through ports',
  },
  {
    files: ['src/conversation/**/*.ts'],
    forbid: ['adapters', 'teams', 'config'],
    io: true,
    why: 'the conversation chooses words; it does no I/O itself',
  },
  {
    files: ['src/adapters/**/*.ts'],
    forbid: ['conversation', 'teams', 'retrieval', 'cards'],
    // The retrieval state machine is the one rule every store applies.
    allow: ['retrieval/retrieval-states'],
    io: false,
    why: 'adapters implement ports and know nothing of the conversation',
  },
  {
    files: ['src/dev/**/*.ts'],
    forbid: ['adapters', 'retrieval', 'domain', 'cards', 'conversation'],
    io: false,
    why: 'the development-only browser chat plays the Teams channel over HTTP and nothing else',
  },
  {
    files: ['src/teams/**/*.ts'],
    forbid: ['adapters', 'retrieval', 'domain', 'cards'],
    allow: ['domain/app-error'],
    io: false,
    why: 'the transport turns activities into calls and results into replies',
  },
];

/** no-restricted-imports options for one layer: the forbidden folders at any depth of ../, and node I/O. */
function layerRule({ forbid, allow = [], io, why }) {
  // `allow`: modules of a forbidden folder the layer may still import (the error base class).
  const except = allow.length > 0 ? `(?!(${allow.join('|')})$)` : '';
  return [
    'error',
    {
      patterns: [{ regex: `^(\\.\\./)+${except}(${forbid.join('|')})(/|$)`, message: `Layering: ${why}.` }],
      paths: io ? nodeIo.map((name) => ({ name, message: `Layering: ${why}; no I/O here.` })) : [],
    },
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'data/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { house: { rules: { 'kebab-case-file': kebabCase } } },
    rules: {
      'house/kebab-case-file': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      eqeqeq: 'error',
      'no-console': 'error',
    },
  },
  ...layers.map((layer) => ({ files: layer.files, rules: { 'no-restricted-imports': layerRule(layer) } })),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: false },
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
  {
    // Tool config files keep the names their tools look for.
    files: ['*.config.js', '*.config.mjs'],
    rules: { 'house/kebab-case-file': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Cards arrive as untyped JSON from the wire; tests walk them freely.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
