import { readFileSync } from 'node:fs';
import { errorsDocCommand, pluginSectionMark, renderErrorsDoc, renderPluginErrorsSection } from '../../scripts/errors-doc';
import { docPath } from '../../scripts/generated-doc';
import { renderStateMachinesDoc, stateMachinesDocCommand } from '../../scripts/state-machines-doc';
import { errorCodes, orderMachine } from '../../src/host';

function readDoc(name: string): string {
  try {
    return readFileSync(docPath(name), 'utf8');
  } catch {
    return '';
  }
}

function expectFresh(name: string, generated: string, command: string, script: string): void {
  const current = readDoc(name);
  if (current !== generated) {
    throw new Error(
      `docs/${name} is stale: it no longer matches the code it is generated from. Run \`${command}\` ` +
        `(or \`TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/core/scripts/${script}\`) and commit the result.`,
    );
  }
}

describe('generated docs', () => {
  it('docs/state-machines.md matches the transition tables', () => {
    expectFresh('state-machines.md', renderStateMachinesDoc(), stateMachinesDocCommand, 'generate-state-machines-doc.ts');
  });

  it('docs/errors.md matches the error catalogue (core\'s part; each bundled plugin checks its own section)', () => {
    const current = readDoc('errors.md');
    const cut = current.indexOf(pluginSectionMark);
    const corePart = cut === -1 ? current : current.slice(0, cut);
    expectFresh('errors.md', renderErrorsDoc() + (cut === -1 ? '' : current.slice(cut)), errorsDocCommand, 'generate-errors-doc.ts');
    expect(corePart).toBe(renderErrorsDoc());
    // After core's part only plugin sections follow.
    for (const section of current.slice(corePart.length).split(pluginSectionMark).slice(1)) expect(section).toMatch(/^`[a-z][a-z0-9-]*`\n/);
  });

  it('renders a plugin\'s own catalogue as its section, with the guidance it declares', () => {
    const section = renderPluginErrorsSection({ plugin: 'acme', errors: { ACME_DOWN: { status: 503, message: 'Acme is down: {detail}', guidance: 'Wait.' }, ACME_GONE: { status: 404, message: 'gone' } } });
    expect(section.startsWith(`${pluginSectionMark}\`acme\``)).toBe(true);
    expect(section).toContain('| `ACME_DOWN` | 503 | Acme is down: {detail} | Wait. |');
    expect(section).toContain('| `ACME_GONE` | 404 | gone | Check the identifier and the URL. |');
    expect(renderErrorsDoc(undefined, undefined, [{ plugin: 'acme', errors: { ACME_GONE: { status: 404, message: 'gone' } } }])).toBe(`${renderErrorsDoc()}${renderPluginErrorsSection({ plugin: 'acme', errors: { ACME_GONE: { status: 404, message: 'gone' } } })}`);
  });

  it('renders every edge, every state description and a Mermaid diagram per machine', () => {
    const doc = renderStateMachinesDoc();
    expect(doc.match(/```mermaid\nstateDiagram-v2/g)).toHaveLength(5);
    for (const edge of orderMachine.edges) {
      expect(doc).toContain(`| \`${edge.from}\` | \`${edge.event}\` | \`${edge.to}\` |`);
      expect(doc).toContain(`  ${edge.from} --> ${edge.to}: ${edge.event}`);
    }
    expect(doc).toContain(`| \`expired\` | ${orderMachine.describe.expired} |`);
    // canceled has no way out, so the matrix row refuses everything and the diagram ends there
    expect(doc).toContain('| `canceled` | · | · | · | · | · |');
    expect(doc).toContain('  canceled --> [*]');
  });

  it('renders one row per code with the status, the message and what to do, falling back by status', () => {
    const doc = renderErrorsDoc(
      { ...errorCodes, SOME_NEW_CODE: { status: 409, message: 'a | b {x}' } },
      { NOT_FOUND: 'Look elsewhere.' },
    );
    expect(doc).toContain('| `NOT_FOUND` | 404 | {entity} not found | Look elsewhere. |');
    expect(doc).toContain('| `SOME_NEW_CODE` | 409 | a \\| b {x} | Reload the current state');
    for (const code of Object.keys(errorCodes)) expect(doc).toContain(`| \`${code}\` |`);
  });

  it('says which command regenerates a stale doc', () => {
    expect(() => expectFresh('errors.md', `${renderErrorsDoc()}extra\n`, errorsDocCommand, 'generate-errors-doc.ts'))
      .toThrow(/docs\/errors\.md is stale.*pnpm docs:errors.*tsx packages\/core\/scripts\/generate-errors-doc\.ts/);
  });
});
