import { errorCodes, type ErrorCatalogue, type ErrorCode, type ErrorDefinition } from '../src/errors';
import { defaultGuidance, errorGuidance } from './error-guidance';
import { cell, generatedBanner } from './generated-doc';

/** The root script that regenerates docs/errors.md; the direct tsx command is in generate-errors-doc.ts. */
export const errorsDocCommand = 'pnpm docs:errors';

/** A bundled plugin's own error catalogue, rendered as its own section of docs/errors.md. */
export interface PluginErrors {
  readonly plugin: string;
  readonly errors: ErrorCatalogue;
}

/** The heading every plugin section starts with; core's part of the page ends before the first. */
export const pluginSectionMark = '\n## Plugin ';

/** One plugin's section: its codes in catalogue order, with the guidance the plugin declares next to each. */
export function renderPluginErrorsSection(p: PluginErrors): string {
  const rows = Object.entries(p.errors).map(([code, def]) => `| \`${code}\` | ${def.status} | ${cell(def.message)} | ${cell(def.guidance ?? defaultGuidance(def.status))} |`);
  return [
    `${pluginSectionMark}\`${p.plugin}\``,
    '',
    `Declared by the ${p.plugin} plugin in its own catalogue (\`definePlugin({ errors })\`); thrown and rendered like core's.`,
    '',
    '| Code | HTTP | Message | What to do |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/**
 * Renders docs/errors.md: one row per catalogued code, in catalogue order, then one section per
 * bundled plugin (`plugins`, each plugin's own catalogue).
 */
export function renderErrorsDoc(
  catalogue: Readonly<Record<string, ErrorDefinition>> = errorCodes,
  guidance: Readonly<Partial<Record<string, string>>> = errorGuidance,
  plugins: readonly PluginErrors[] = [],
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
    'Every refusal Kassa makes is a `KassaError` from one catalogue per package (core\'s is',
    '`packages/core/src/errors/error-codes.ts`; each plugin declares its own, listed after core\'s below):',
    'a stable code, the HTTP status to answer with, and a',
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
    `${rows.length} codes in core. A test fails when this page and a catalogue disagree.`,
    '',
    '| Code | HTTP | Message | What to do |',
    '| --- | --- | --- | --- |',
    ...rows,
  ];
  return `${lines.join('\n')}\n${plugins.map(renderPluginErrorsSection).join('')}`;
}
