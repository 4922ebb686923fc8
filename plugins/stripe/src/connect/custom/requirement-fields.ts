import { KassaError } from '@kassa/core';
import { parseBankInput } from './bank-input';

/*
 * The verification form of a Custom account, built from what Stripe asks for right now (the
 * account's `requirements`), as pinax-stripe's AdditionalCustomAccountForm builds its fields from
 * `verification_fields_needed`. Each field is one requirement (or a group Stripe lists as several:
 * the date of birth, the terms of service); what the organizer fills in becomes the parameters of
 * one account update.
 */

export type FieldKind = 'text' | 'email' | 'url' | 'select' | 'date' | 'tos' | 'bank' | 'stripe-only';

export interface RequirementField {
  /** The form input's name: the requirement path, or the group's path (`individual.dob`, `tos_acceptance`). */
  readonly name: string;
  readonly requirements: readonly string[];
  readonly label: string;
  readonly kind: FieldKind;
  readonly options?: readonly string[];
  readonly pastDue: boolean;
  /** Stripe's reasons for refusing what was given before (requirements.errors). */
  readonly errors: readonly string[];
}

export interface Requirements {
  currently_due?: string[];
  past_due?: string[];
  current_deadline?: number | null;
  errors?: { requirement: string; code?: string; reason: string }[];
  disabled_reason?: string | null;
}

const BUSINESS_TYPES = ['individual', 'company', 'non_profit', 'government_entity'] as const;

const LABELS: Record<string, string> = {
  business_type: 'Type of business',
  'business_profile.url': 'Website of the business',
  'business_profile.mcc': 'Merchant category code (4 digits)',
  'business_profile.product_description': 'What you sell',
  'business_profile.name': 'Public business name',
  external_account: 'Bank account for payouts',
  tos_acceptance: 'Stripe Services Agreement',
};

function labelOf(name: string): string {
  return LABELS[name] ?? name.split('.').map((s) => s.replace(/_/g, ' ')).join(' › ');
}

/** The group a requirement belongs to: the three parts of a date of birth are one date input, the two of the ToS one checkbox. */
function groupOf(requirement: string): { name: string; kind: FieldKind } {
  if (requirement.startsWith('tos_acceptance.')) return { name: 'tos_acceptance', kind: 'tos' };
  const dob = /^(.*\.dob)\.(day|month|year)$/.exec(requirement);
  if (dob) return { name: dob[1] as string, kind: 'date' };
  if (requirement === 'external_account') return { name: requirement, kind: 'bank' };
  if (requirement === 'business_type') return { name: requirement, kind: 'select' };
  // Identity documents are uploaded files, and persons (representative, owners, directors) are
  // objects of their own (the Persons API, not built here): both are collected on Stripe's own
  // page, through the account-update link.
  if (/\.verification\.(additional_)?document$|^documents\./.test(requirement) || /^(representative|owners|directors|executives|person_[A-Za-z0-9]+)\./.test(requirement)) {
    return { name: requirement, kind: 'stripe-only' };
  }
  if (requirement.endsWith('.email')) return { name: requirement, kind: 'email' };
  if (requirement.endsWith('.url')) return { name: requirement, kind: 'url' };
  return { name: requirement, kind: 'text' };
}

/** The fields of what Stripe needs now: past due first, then currently due; each with Stripe's error reasons. */
export function requirementFields(r: Requirements): RequirementField[] {
  const pastDue = new Set(r.past_due ?? []);
  const due = [...new Set([...(r.past_due ?? []), ...(r.currently_due ?? [])])];
  const fields = new Map<string, { requirements: string[]; kind: FieldKind; pastDue: boolean; errors: string[] }>();
  for (const req of due) {
    const g = groupOf(req);
    const f = fields.get(g.name) ?? { requirements: [], kind: g.kind, pastDue: false, errors: [] };
    f.requirements.push(req);
    f.pastDue ||= pastDue.has(req);
    for (const e of r.errors ?? []) if (e.requirement === req) f.errors.push(e.reason);
    fields.set(g.name, f);
  }
  return [...fields].map(([name, f]) => ({
    name, requirements: f.requirements, label: labelOf(name), kind: f.kind, pastDue: f.pastDue, errors: f.errors,
    ...(f.kind === 'select' ? { options: BUSINESS_TYPES } : {}),
  }));
}

const bad = (field: string, detail: string): KassaError => new KassaError('VALIDATION_FAILED', { field, detail: `${field}: ${detail}` });

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[parts[parts.length - 1] as string] = value;
}

function text(field: string, v: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  if (v.length > max || /[\u0000-\u001f\u007f]/.test(v)) throw bad(field, `must be at most ${max} characters of text`);
  return v;
}

/**
 * The account update for a posted form: only the fields asked for now are read (anything else is
 * ignored), empty ones are left out; a value that cannot be right is refused with a 400 naming the
 * field. `now` and `clientIp` record the organizer's acceptance of Stripe's terms.
 */
export function accountUpdateFrom(fields: readonly RequirementField[], body: Record<string, unknown>, ctx: { now: Date; clientIp: string | undefined; currency: string }): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  let provided = 0;
  for (const f of fields) {
    const raw = body[f.name];
    if (raw !== undefined && typeof raw !== 'string') throw bad(f.name, 'must be a single value');
    const v = (raw ?? '').trim();
    if (!v || f.kind === 'stripe-only') continue;
    provided += 1;
    switch (f.kind) {
      case 'select':
        if (!(f.options ?? []).includes(v)) throw bad(f.name, `must be one of ${(f.options ?? []).join(', ')}`);
        setPath(params, f.name, v);
        break;
      case 'url': {
        let u: URL | null = null;
        try { u = new URL(v); } catch { /* refused below */ }
        if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || v.length > 500) throw bad(f.name, 'must be a web address starting with https://');
        setPath(params, f.name, v);
        break;
      }
      case 'email':
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) || v.length > 254) throw bad(f.name, 'must be an email address');
        setPath(params, f.name, v);
        break;
      case 'date': {
        const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
        const d = m ? new Date(`${v}T00:00:00Z`) : null;
        if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v || d > ctx.now) throw bad(f.name, 'must be a past date (YYYY-MM-DD)');
        setPath(params, f.name, { day: Number(m[3]), month: Number(m[2]), year: Number(m[1]) });
        break;
      }
      case 'tos':
        if (v !== 'accepted') throw bad(f.name, 'tick the box to accept');
        if (!ctx.clientIp) throw bad(f.name, 'the address of your browser is unknown, so the acceptance cannot be recorded');
        setPath(params, 'tos_acceptance', { date: Math.floor(ctx.now.getTime() / 1000), ip: ctx.clientIp });
        break;
      case 'bank':
        params.external_account = parseBankInput(f.name, v, typeof body.currency === 'string' && body.currency ? body.currency : ctx.currency, typeof body.account_holder_name === 'string' ? body.account_holder_name : '');
        break;
      default:
        setPath(params, f.name, text(f.name, v));
    }
  }
  if (provided === 0) throw bad('requirements', 'nothing was filled in');
  return params;
}
