import { orderMachine } from '../src/order/order.machine';
import { paymentMachine } from '../src/payment/payment.machine';
import { refundMachine } from '../src/refund/refund.machine';
import { planMachine } from '../src/plan/payment-plan.machine';
import { instalmentMachine } from '../src/plan/instalment.machine';
import type { Machine } from '../src/state-machine';
import { cell, generatedBanner } from './generated-doc';

/** Any of the tables, with its state and event unions widened for rendering. */
export type AnyMachine = Machine<string, string>;

/** The tables docs/state-machines.md is generated from, in reading order. */
export const documentedMachines: readonly AnyMachine[] = [orderMachine, paymentMachine, refundMachine, planMachine, instalmentMachine];

/** The root script that regenerates docs/state-machines.md; named in the banner and in the stale-doc test. */
export const stateMachinesDocCommand = 'pnpm docs:state-machines';

/** Renders docs/state-machines.md: for each machine its states, sets, edges with their effects, a state × event matrix and a Mermaid diagram. */
export function renderStateMachinesDoc(machines: readonly AnyMachine[] = documentedMachines): string {
  const lines = [
    generatedBanner('generate-state-machines-doc.ts', stateMachinesDocCommand),
    '',
    '# State machines',
    '',
    'Kassa keeps one transition table per aggregate. The tables below are the whole truth: a',
    'service asks the pure `transition(from, event)` for the next state and the edge\'s effects, and any',
    '(state, event) pair that is not listed is refused with `STATE_TRANSITION_NOT_ALLOWED` (HTTP 409)',
    'before anything is written. The write itself is compare-and-set (`UPDATE … SET state = :to WHERE id',
    '= :id AND state = :from`); zero rows affected means someone else moved the row first',
    '(`STATE_CONFLICT`). The persistence kernel writes the edge\'s effects with it, in the same',
    'statement: the audit log entry (`log`) and the outbox event (`topic`).',
    '',
    'Code never compares a state with a literal: it asks a named **set** (`orderMachine.is(\'paid\', s)`),',
    'and SQL predicates are generated from the sets (`paymentMachine.sqlIn(\'counting\', \'p.state\')`), the',
    'quota trigger included. A test keeps literal status checks out of the code.',
    '',
    'One row per attempt: each payment and each refund is its own row with its own machine. Whether an',
    "order is paid, overpaid or underpaid is derived from its payments' and refunds' states under a",
    'row lock, as in pretix.',
    '',
    ...machines.map((m) => `- [${m.name}](#${anchor(m.name)}): ${m.states.length} states, ${m.edges.length} transitions`),
    '',
  ];
  for (const machine of machines) lines.push(...renderMachine(machine));
  return `${lines.join('\n').trimEnd()}\n`;
}

function renderMachine(m: AnyMachine): string[] {
  const terminal = m.states.filter((s) => !m.edges.some((e) => e.from === s));
  const code = (s: string) => `\`${s}\``;
  return [
    `## ${m.name}`,
    '',
    `New rows start in ${m.initial.map(code).join(' or ')}.` +
      (terminal.length > 0 ? ` Final: ${terminal.map(code).join(', ')}.` : ' No state is final.'),
    '',
    '### States',
    '',
    '| State | Meaning |',
    '| --- | --- |',
    ...m.states.map((s) => `| ${code(s)}${m.initial.includes(s) ? ' (initial)' : ''} | ${cell(m.describe[s] ?? '')} |`),
    '',
    '### Sets',
    '',
    'What states mean. Code asks these (`is`, `statesOf`, `sqlIn`, `sqlNotIn`), never a literal state.',
    '',
    '| Set | States | Meaning |',
    '| --- | --- | --- |',
    ...Object.entries(m.sets).map(([name, set]) => `| ${code(name)} | ${set.states.map(code).join(', ')} | ${cell(set.meaning)} |`),
    '',
    '### Transitions',
    '',
    'Each edge\'s effects are written with the change: the audit log action and the outbox topic.',
    '',
    '| From | Event | To | Log action | Outbox topic | Note |',
    '| --- | --- | --- | --- | --- | --- |',
    ...m.edges.map((e) => `| ${code(e.from)} | ${code(e.event)} | ${code(e.to)} | ${e.log ? code(e.log) : '—'} | ${e.topic ? code(e.topic) : '—'} | ${cell(e.note ?? '')} |`),
    '',
    '### Allowed events by state',
    '',
    'Each cell is the next state; `·` means the event is refused in that state.',
    '',
    `| State | ${m.events.map(code).join(' | ')} |`,
    `| --- | ${m.events.map(() => '---').join(' | ')} |`,
    ...m.states.map((s) => `| ${code(s)} | ${m.events.map((e) => m.next(s, e) ?? '·').join(' | ')} |`),
    '',
    '### Diagram',
    '',
    '```mermaid',
    'stateDiagram-v2',
    ...m.initial.map((s) => `  [*] --> ${s}`),
    ...m.edges.map((e) => `  ${e.from} --> ${e.to}: ${e.event}`),
    ...terminal.map((s) => `  ${s} --> [*]`),
    '```',
    '',
  ];
}

/** GitHub's heading anchor for a plain one-word heading. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}
