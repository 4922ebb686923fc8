import type { Config } from 'jest';

// Packages that ship ESM only: Jest on Node 20 cannot require them, so swc transforms them.
const esmOnly = ['content-disposition', 'cookie', 'set-cookie-parser', 'find-my-way', 'light-my-request', 'fastify', '@fastify', 'eta'];

const swc: Config['transform'] = {
  '^.+\\.(t|j|mj)sx?$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};

const project = (name: string): Config => ({
  displayName: name,
  rootDir: `<rootDir>/${name}`,
  testEnvironment: 'node',
  transform: swc,
  transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/[^/]+/node_modules/)?(${esmOnly.join('|')})/)`],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['reflect-metadata'],
  // Fails the test that queues a query on a pg client still executing another (pg 9 refuses it).
  setupFilesAfterEnv: [`${__dirname}/packages/testing/src/jest/pg-query-guard.setup.ts`],
});

const config: Config = {
  rootDir: __dirname,
  maxWorkers: 2,
  testTimeout: 60_000,
  projects: [
    'packages/core',
    'packages/testing',
    'packages/stripe-emulator',
    'packages/jobs',
    'packages/server',
    'packages/app',
    'plugins/stripe',
    'plugins/banktransfer',
  ].map((p) => ({ ...project(p), rootDir: `${__dirname}/${p}` })),
};

export default config;
