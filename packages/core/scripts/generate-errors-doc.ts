// Writes docs/errors.md from the error catalogue (`pnpm docs:errors`, or
// `TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/core/scripts/generate-errors-doc.ts`).
// With --check it only reports whether the file is stale.
import { renderErrorsDoc } from './errors-doc';
import { writeGeneratedDoc } from './generated-doc';

writeGeneratedDoc('errors.md', renderErrorsDoc(), process.argv.slice(2));
