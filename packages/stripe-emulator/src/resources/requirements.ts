import type { Emulator } from '../emulator';
import type { FormObject, FormValue } from '../form-decode';
import type { AccountState } from '../store';
import type { Requirements } from '../types';

/** §9.1: what a fresh connected account has to provide before it may charge. */
export const INITIAL_REQUIREMENTS = ['business_type', 'business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip', 'representative.first_name'];

/** Requirements satisfied by parameters other than their own dotted path. */
const ALTERNATIVE_PATHS: Record<string, string[][]> = {
  'representative.first_name': [['individual', 'first_name'], ['company', 'name'], ['representative', 'first_name']],
};

export interface RequirementError {
  code: string;
  reason: string;
  requirement: string;
}

function present(raw: FormObject, path: string[]): boolean {
  let v: FormValue | undefined = raw;
  for (const seg of path) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
    v = (v as FormObject)[seg];
  }
  return v !== undefined && v !== '';
}

/** True when an account update's parameters provide the requirement (`individual.address.city` ← `individual[address][city]`). */
export function provides(raw: FormObject, requirement: string): boolean {
  const paths = ALTERNATIVE_PATHS[requirement] ?? [requirement.split('.')];
  return paths.some((p) => present(raw, p));
}

/** Removes the given requirements from every list (and their errors): they were provided. */
export function clearRequirements(r: Requirements, provided: (requirement: string) => boolean): void {
  const keep = (x: string) => !provided(x);
  r.currently_due = r.currently_due.filter(keep);
  r.eventually_due = r.eventually_due.filter(keep);
  r.past_due = r.past_due.filter(keep);
  r.pending_verification = r.pending_verification.filter(keep);
  r.errors = (r.errors as RequirementError[]).filter((e) => keep(e.requirement));
}

/**
 * Derives the account's state from its requirements, as Stripe does (§9.1): once
 * `current_deadline` passes, what is still currently due becomes past due; past-due requirements
 * (or a `rejected.*` reason) disable charges, payouts and the requested capabilities; requirements
 * that are merely currently due before their deadline do not. Emits account.updated (with
 * previous_attributes) and one capability.updated per capability whose status changed, when
 * anything changed.
 */
export function refreshAccount(emu: Emulator, state: AccountState, previous: Record<string, unknown> = {}, force = false): boolean {
  const a = state.account;
  const r = a.requirements;
  const before = JSON.stringify({ r, c: a.charges_enabled, p: a.payouts_enabled, d: a.details_submitted, caps: a.capabilities });
  const prev = { requirements: structuredClone(r), charges_enabled: a.charges_enabled, payouts_enabled: a.payouts_enabled, capabilities: { ...a.capabilities }, ...previous };
  const now = emu.nowSeconds();
  if (r.current_deadline !== null && r.current_deadline <= now && r.currently_due.length > 0) {
    r.past_due = [...new Set([...r.past_due, ...r.currently_due])];
  }
  if (r.current_deadline !== null && (r.current_deadline <= now || r.currently_due.length === 0)) r.current_deadline = null;
  r.eventually_due = [...new Set([...r.eventually_due, ...r.currently_due, ...r.past_due])];
  const rejected = r.disabled_reason?.startsWith('rejected.') ?? false;
  const blocked = rejected || r.past_due.length > 0;
  if (!rejected) r.disabled_reason = r.past_due.length > 0 ? 'requirements.past_due' : r.pending_verification.length > 0 ? 'requirements.pending_verification' : null;
  a.charges_enabled = !blocked;
  a.payouts_enabled = !blocked;
  if (r.currently_due.length === 0 && r.past_due.length === 0) a.details_submitted = true;
  const capsBefore = { ...a.capabilities };
  for (const k of Object.keys(a.capabilities)) a.capabilities[k] = blocked ? 'inactive' : 'active';
  const changed = before !== JSON.stringify({ r, c: a.charges_enabled, p: a.payouts_enabled, d: a.details_submitted, caps: a.capabilities });
  if (!changed && !force) return false;
  emu.emit(state, 'account.updated', a, prev);
  for (const [k, v] of Object.entries(a.capabilities)) {
    if (capsBefore[k] !== v) emu.emit(state, 'capability.updated', capabilityObject(state, k), { status: capsBefore[k] });
  }
  return true;
}

/** The Capability object (`GET /v1/accounts/:id/capabilities/:cap`, `capability.updated`). */
export function capabilityObject(state: AccountState, name: string): Record<string, unknown> {
  const r = state.account.requirements;
  return {
    id: name,
    object: 'capability',
    account: state.id,
    requested: true,
    status: state.account.capabilities[name],
    requirements: {
      current_deadline: r.current_deadline,
      currently_due: r.currently_due,
      eventually_due: r.eventually_due,
      past_due: r.past_due,
      pending_verification: r.pending_verification,
      errors: r.errors,
      disabled_reason: r.disabled_reason,
      alternatives: [],
    },
  };
}

/** Reads `errors[n][requirement|code|reason]` (array or indexed hash) from a control request. */
export function parseRequirementErrors(raw: unknown): RequirementError[] {
  if (raw === undefined || raw === '') return [];
  const list = Array.isArray(raw) ? raw : typeof raw === 'object' && raw ? Object.values(raw) : [];
  return list.map((e) => {
    const o = (e ?? {}) as Record<string, string>;
    return { requirement: o.requirement ?? '', code: o.code ?? 'invalid_value_other', reason: o.reason ?? 'The information provided could not be verified.' };
  });
}
