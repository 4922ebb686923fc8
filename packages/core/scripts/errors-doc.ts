import { errorCodes, type ErrorCode, type ErrorDefinition } from '../src/errors';
import { defaultGuidance, errorGuidance } from './error-guidance';
import { cell, generatedBanner } from './generated-doc';

/** The root script that regenerates docs/errors.md; the direct tsx command is in generate-errors-doc.ts. */
export const errorsDocCommand = 'pnpm docs:errors';

/** Renders docs/errors.md: one row per catalogued code, in catalogue order. */
export function renderErrorsDoc(
  catalogue: Readonly<Record<string, ErrorDefinition>> = errorCodes,
  guidance: Readonly<Partial<Record<string, string>>> = errorGuidance,
): string {
  const rows = Object.entries(catalogue).map(([code, def]) => {
    const todo = guidance[code as ErrorCode] ?? defaultGuidance(def.status);
    return `| \`${code}\` | ${def.status} | ${cell(def.message)} | ${cell(todo)} |`;
  });
  const lines = [
    generatedBanner('generate-errors-doc.ts', errorsDocCommand),
    '',
    '# Errors',
    '',
    'Every refusal Kassa makes is a `KassaError` from one catalogue',
    '(`packages/core/src/errors/error-codes.ts`): a stable code, the HTTP status to answer with, and a',
    'message template whose `{placeholders}` are filled from the error\'s params. Codes never change',
    'meaning and are never reused; match on the code, not on the message. When Kassa refuses a request,',
    'it has written nothing.',
    '',
    'Over HTTP (and in `KassaError.toJSON()`) an error has this shape:',
    '',
    '```json',
    '{ "code": "MONEY_PARSE_FAILED", "message": "Cannot read \\"13,3,7\\" as an amount in EUR: …", "params": { "input": "13,3,7", "currency": "EUR", "reason": "…" } }',
    '```',
    '',
    `${rows.length} codes. A test fails when this page and the catalogue disagree.`,
    '',
    '| Code | HTTP | Message | What to do |',
    '| --- | --- | --- | --- |',
    ...rows,
  ];
  return `${lines.join('\n')}\n`;
}
