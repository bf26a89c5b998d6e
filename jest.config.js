/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // dist/ is built once here for the tests that run the bot as a process (none rebuilds it).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  transform: {
    // isolatedModules (tsconfig) makes ts-jest transpile only: type checking is `npm run typecheck`'s job.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // Fail loudly rather than hang on a forgotten server or timer.
  testTimeout: 20000,
};
