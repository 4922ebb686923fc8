// Writes docs/state-machines.md from the transition tables (`pnpm docs:state-machines`).
// With --check it only reports whether the file is stale.
import { writeGeneratedDoc } from './generated-doc';
import { renderStateMachinesDoc } from './state-machines-doc';

writeGeneratedDoc('state-machines.md', renderStateMachinesDoc(), process.argv.slice(2));
