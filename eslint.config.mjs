// Lint: typescript-eslint's recommended rules plus the dependency rule from the GUIDE:
// core imports no fastify, bullmq or stripe; plugins import only @kassa/core (the plugin port),
// the server, jobs and the app also @kassa/core/host; the server and jobs know plugins only through
// the contract (the distribution, @kassa/app, names them). packages/app/test/lint checks these rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noDeepCore = { group: ['@kassa/core/*', '!@kassa/core/host'], message: 'Import @kassa/core (the plugin port) or @kassa/core/host (server, jobs, app), never a file inside core.' };
const noPlugins = {
  group: ['@kassa/plugin-*', '@kassa/stripe-emulator', '@kassa/stripe-emulator/*', '@kassa/app', '@kassa/app/*', '**/plugins/*', '**/stripe-emulator/*', '**/app/src', '**/app/src/*'],
  message: 'The server and jobs know plugins only through the plugin contract; the distribution (@kassa/app) names plugins and the emulator (dependency rule).',
};
const noCoreHost = { group: ['@kassa/core/host'], message: 'Plugins import only @kassa/core, the plugin port.' };

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/dist-types/**', 'packages/stripe-emulator/src/browser/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [noDeepCore] }],
    },
  },
  {
    files: ['packages/core/**/*.ts'],
    ignores: ['packages/core/test/**', 'packages/core/bench/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['stripe', 'bullmq', 'fastify', 'ioredis', 'eta'].map((name) => ({ name, message: 'core must not depend on infrastructure or plugins (dependency rule).' })),
        patterns: [
          { group: ['@fastify/*', 'fastify-*'], message: 'core imports no fastify (dependency rule).' },
          { group: ['@kassa/server', '@kassa/jobs', '@kassa/plugin-*', '@kassa/stripe-emulator', '@kassa/testing', '@kassa/app', '@kassa/app/*'], message: 'core depends on no other Kassa package.' },
        ],
      }],
    },
  },
  {
    files: ['packages/server/**/*.ts', 'packages/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noDeepCore, noPlugins] }],
    },
  },
  {
    files: ['plugins/**/*.ts'],
    ignores: ['plugins/**/test/**', 'plugins/**/bench/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          noDeepCore,
          noCoreHost,
          { group: ['@kassa/server', '@kassa/server/*', '@kassa/jobs', '@kassa/jobs/*', '@kassa/testing', '@kassa/stripe-emulator'], message: 'plugins import only @kassa/core (dependency rule).' },
          { group: ['../../../packages/*', '../../packages/*'], message: 'plugins import only @kassa/core (dependency rule).' },
        ],
      }],
    },
  },
  {
    // The Stripe plugin's embedded default starts the offline emulator: this one file may import it.
    files: ['plugins/stripe/src/embedded.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          noDeepCore,
          noCoreHost,
          { group: ['@kassa/server', '@kassa/server/*', '@kassa/jobs', '@kassa/jobs/*', '@kassa/testing'], message: 'plugins import only @kassa/core (dependency rule).' },
          { group: ['../../../packages/*', '../../packages/*'], message: 'plugins import only @kassa/core (dependency rule).' },
        ],
      }],
    },
  },
  {
    files: ['packages/stripe-emulator/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@kassa/*'], message: 'the emulator depends on no other Kassa package.' }] }],
    },
  },
);
