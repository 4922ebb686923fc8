import { readFileSync } from 'node:fs';
import { errorsDocCommand, renderErrorsDoc } from '../../scripts/errors-doc';
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

  it('docs/errors.md matches the error catalogue', () => {
    expectFresh('errors.md', renderErrorsDoc(), errorsDocCommand, 'generate-errors-doc.ts');
  });

  it('renders every edge, every state description and a Mermaid diagram per machine', () => {
    const doc = renderStateMachinesDoc();
    expect(doc.match(/```mermaid\nstateDiagram-v2/g)).toHaveLength(3);
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
