#!/usr/bin/env node
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher: register tsx, then run the TypeScript CLI (no build step). */
require('tsx/cjs');
require('../src/cli.ts');
