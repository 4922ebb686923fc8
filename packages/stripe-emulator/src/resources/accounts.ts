import type { Emulator } from '../emulator';
import { invalidRequest, permissionError } from '../errors';
import { LIST_PARAMS, paginate } from '../lists';
import { Params } from '../params';
import { RawResponse, type Ctx, type Router } from '../router';
import type { AccountState } from '../store';
import type { Account } from '../types';
import { page, escapeHtml } from '../browser/pages';
import { addExternalAccount } from './external-accounts';
import { capabilityObject, clearRequirements, INITIAL_REQUIREMENTS, provides, refreshAccount, type RequirementError } from './requirements';

export { refreshAccount } from './requirements';

const ACCOUNT_PARAMS = ['account_token', 'business_profile', 'business_type', 'capabilities', 'company', 'default_currency', 'documents', 'email', 'external_account', 'groups', 'individual', 'metadata', 'settings', 'tos_acceptance'];

export function getConnected(ctx: Ctx, id: string): AccountState {
  const state = ctx.emu.account(id);
  if (!state || (state.platformId !== ctx.platform.id && state.id !== ctx.platform.id)) {
    throw permissionError(`The provided key does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`, 'account_invalid');
  }
  return state;
}

/** Onboarding that provides `external_account` leaves a (successful) test bank account behind. */
function ensureBankAccount(emu: Emulator, state: AccountState): void {
  if (state.coll('bank_account').size === 0) addExternalAccount(emu, state, { account_number: '000123456789' });
}

export function completeOnboarding(emu: Emulator, state: AccountState): Account {
  const a = state.account;
  const previous = { requirements: structuredClone(a.requirements), charges_enabled: a.charges_enabled, details_submitted: a.details_submitted };
  clearRequirements(a.requirements, () => true);
  ensureBankAccount(emu, state);
  a.requirements.current_deadline = null;
  if (!a.requirements.disabled_reason?.startsWith('rejected.')) a.requirements.disabled_reason = null;
  a.details_submitted = true;
  refreshAccount(emu, state, previous, true);
  return a;
}

function applyUpdate(emu: Emulator, state: AccountState, p: Params): Record<string, unknown> {
  const a = state.account;
  const previous: Record<string, unknown> = { requirements: structuredClone(a.requirements) };
  if (p.has('email')) a.email = p.str('email') ?? null;
  if (p.has('business_type')) a.business_type = p.oneOf('business_type', ['company', 'government_entity', 'individual', 'non_profit']) ?? null;
  const profile = p.loose('business_profile');
  if (profile) a.business_profile = { ...a.business_profile, ...profile };
  const tos = p.loose('tos_acceptance');
  if (tos) a.tos_acceptance = { ...a.tos_acceptance, ...tos };
  if (p.has('metadata')) a.metadata = p.metadata(a.metadata);
  const caps = p.loose('capabilities');
  if (caps) for (const k of Object.keys(caps)) if (!(k in a.capabilities)) a.capabilities[k] = 'inactive';
  const settings = p.loose('settings');
  if (settings) a.settings = { ...a.settings, ...settings };
  // A bank token (btok_…) or the bank account's fields.
  if (typeof p.raw.external_account === 'string') {
    if (p.raw.external_account) addExternalAccount(emu, state, { account_number: '000123456789' });
  } else {
    const bank = p.loose('external_account');
    if (bank) addExternalAccount(emu, state, bank);
  }
  clearRequirements(a.requirements, (req) => provides(p.raw, req));
  return previous;
}

export function registerAccounts(r: Router): void {
  r.add('POST', '/v1/accounts', (ctx) => {
    if (ctx.account.platformId) throw invalidRequest('Connected accounts cannot create accounts.', { param: 'type' });
    const p = new Params(ctx.params, [...ACCOUNT_PARAMS, 'country', 'type', 'controller']);
    const controller = p.loose('controller');
    const type = p.oneOf('type', ['standard', 'express', 'custom']) ?? (controller ? 'none' : undefined);
    if (!type) throw invalidRequest('Missing required param: type (or controller).', { code: 'parameter_missing', param: 'type' });
    const id = ctx.emu.ids.id('acct_1', 15);
    const a = ctx.emu.newAccountObject(id, type, (p.str('country') ?? ctx.account.account.country).toUpperCase(), p.str('email') ?? null);
    if (controller) a.controller = controller;
    const due = [...INITIAL_REQUIREMENTS];
    a.requirements = { ...a.requirements, currently_due: [...due], eventually_due: [...due], past_due: [...due], disabled_reason: 'requirements.past_due', current_deadline: null };
    const state = ctx.emu.addConnected(ctx.account, a);
    ctx.emu.own(id, state);
    applyUpdate(ctx.emu, state, p);
    // Derive the flags without events: the account is new (Stripe sends no account.updated for creation).
    const r = a.requirements;
    r.eventually_due = [...new Set([...r.eventually_due, ...r.currently_due, ...r.past_due])];
    const done = r.currently_due.length === 0 && r.past_due.length === 0;
    r.disabled_reason = done ? null : 'requirements.past_due';
    a.charges_enabled = a.payouts_enabled = done;
    a.details_submitted = done;
    for (const k of Object.keys(a.capabilities)) a.capabilities[k] = done ? 'active' : 'inactive';
    return a;
  });
  r.add('GET', '/v1/accounts/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    return getConnected(ctx, id as string).account;
  });
  r.add('GET', '/v1/account', (ctx) => {
    new Params(ctx.params, []);
    return ctx.account.account;
  });
  r.add('POST', '/v1/accounts/:id', (ctx, [id]) => {
    const p = new Params(ctx.params, ACCOUNT_PARAMS);
    const state = getConnected(ctx, id as string);
    const previous = applyUpdate(ctx.emu, state, p);
    // Stripe sends account.updated for any property change, requirements or not.
    refreshAccount(ctx.emu, state, previous, true);
    return state.account;
  });
  r.add('DELETE', '/v1/accounts/:id', (ctx, [id]) => {
    new Params(ctx.params, []);
    const state = getConnected(ctx, id as string);
    if (!state.platformId) throw invalidRequest('A platform cannot delete its own account through the emulator.', { param: 'account' });
    ctx.emu.accounts.delete(state.id);
    return { id: state.id, object: 'account', deleted: true };
  });
  r.add('GET', '/v1/accounts', (ctx) => {
    const p = new Params(ctx.params, [...LIST_PARAMS]);
    const items = [...ctx.emu.accounts.values()].filter((s) => s.platformId === ctx.account.id).map((s) => s.account);
    return paginate(items, p, '/v1/accounts');
  });
  const capability = capabilityObject;
  r.add('GET', '/v1/accounts/:id/capabilities', (ctx, [id]) => {
    new Params(ctx.params, []);
    const state = getConnected(ctx, id as string);
    return { object: 'list', data: Object.keys(state.account.capabilities).map((n) => capability(state, n)), has_more: false, url: `/v1/accounts/${id}/capabilities` };
  });
  r.add('GET', '/v1/accounts/:id/capabilities/:cap', (ctx, [id, cap]) => {
    new Params(ctx.params, []);
    const state = getConnected(ctx, id as string);
    if (!(cap as string in state.account.capabilities)) throw invalidRequest(`No such capability: '${cap}'`, { code: 'resource_missing', param: 'capability' });
    return capability(state, cap as string);
  });
  r.add('POST', '/v1/accounts/:id/capabilities/:cap', (ctx, [id, cap]) => {
    const p = new Params(ctx.params, ['requested']);
    const state = getConnected(ctx, id as string);
    const name = cap as string;
    if (p.bool('requested') === false) delete state.account.capabilities[name];
    else if (!(name in state.account.capabilities)) {
      // A fully onboarded account gets new capabilities at once; otherwise they wait for requirements.
      state.account.capabilities[name] = state.account.details_submitted && state.account.requirements.currently_due.length === 0 ? 'active' : 'inactive';
      ctx.emu.emit(state, 'capability.updated', capability(state, name));
    }
    return name in state.account.capabilities ? capability(state, name) : { id: name, object: 'capability', account: state.id, requested: false, status: 'unrequested' };
  });
  r.add('POST', '/v1/account_links', (ctx) => {
    const p = new Params(ctx.params, ['account', 'type', 'refresh_url', 'return_url', 'collect', 'collection_options']);
    const state = getConnected(ctx, p.reqStr('account'));
    const type = p.oneOf('type', ['account_onboarding', 'account_update'], true) as string;
    if (type === 'account_update' && state.account.type !== 'custom') {
      throw invalidRequest('account_update links can only be created for custom accounts (or accounts whose platform collects requirements).', { param: 'type' });
    }
    const refreshUrl = p.str('refresh_url');
    const returnUrl = p.reqStr('return_url');
    const token = ctx.emu.ids.id('', 32);
    const created = ctx.emu.nowSeconds();
    const expiresAt = created + ctx.emu.options.accountLinkTtlSeconds;
    ctx.emu.accountLinks.set(token, { account: state.id, type, refresh_url: refreshUrl ?? returnUrl, return_url: returnUrl, expiresAt, used: false });
    return { object: 'account_link', created, expires_at: expiresAt, url: `${ctx.emu.baseUrl}/_emulator/connect/onboarding/${token}` };
  });
  r.add('POST', '/v1/accounts/:id/login_links', (ctx, [id]) => {
    new Params(ctx.params, []);
    const state = getConnected(ctx, id as string);
    if (state.account.type !== 'express') throw invalidRequest('Login links can only be created for Express accounts.', { param: 'account' });
    return { object: 'login_link', created: ctx.emu.nowSeconds(), url: `${ctx.emu.baseUrl}/_emulator/connect/express/${state.id}` };
  });

  // Onboarding pages reached by the account link (single use; expired or reused → refresh_url).
  r.add('GET', '/_emulator/connect/onboarding/:token', (ctx, [token]) => {
    const link = ctx.emu.accountLinks.get(token as string);
    if (!link) return RawResponse.html(page('Link not found', '<p>This onboarding link does not exist.</p>'), 404);
    if (link.used || link.expiresAt < ctx.emu.nowSeconds()) return RawResponse.redirect(link.refresh_url);
    link.used = true;
    const state = ctx.emu.account(link.account);
    const r = state?.account.requirements;
    const due = r ? [...new Set([...r.past_due, ...r.currently_due])] : [];
    const errors = new Map(((r?.errors ?? []) as RequirementError[]).map((e) => [e.requirement, e]));
    // One checkbox per requirement, all ticked: untick one to leave it unprovided (a test of partial onboarding).
    const items = due
      .map((req, i) => {
        const err = errors.get(req);
        const note = err ? ` <em class="kassa-requirement-error" data-code="${escapeHtml(err.code)}">${escapeHtml(err.reason)}</em>` : '';
        return `<li><label><input type="checkbox" name="provide[${i}]" value="${escapeHtml(req)}" data-requirement="${escapeHtml(req)}" checked> ${escapeHtml(req)}</label>${note}</li>`;
      })
      .join('');
    const t = escapeHtml(token as string);
    return RawResponse.html(
      page(
        'Connect onboarding',
        `<p>Onboarding for <code>${escapeHtml(link.account)}</code> (${escapeHtml(link.type)}).</p>
<form method="post" action="/_emulator/connect/onboarding/${t}/complete"><input type="hidden" name="form" value="1">
<p>Information Stripe asks for${r?.current_deadline ? ` (due by ${new Date(r.current_deadline * 1000).toISOString()})` : ''}:</p><ul id="kassa-onboarding-requirements">${items || '<li>nothing</li>'}</ul>
<button id="kassa-onboarding-complete" type="submit">Complete onboarding</button></form>
<form method="post" action="/_emulator/connect/onboarding/${t}/leave"><button id="kassa-onboarding-leave" type="submit">Leave without finishing</button></form>`,
      ),
    );
  }, 'none');
  r.add('POST', '/_emulator/connect/onboarding/:token/:action', (ctx, [token, action]) => {
    const link = ctx.emu.accountLinks.get(token as string);
    if (!link) return RawResponse.html(page('Link not found', '<p>This onboarding link does not exist.</p>'), 404);
    const state = ctx.emu.account(link.account);
    if (state && action === 'complete') {
      const raw = ctx.params.provide;
      const provided = raw === undefined ? [] : Array.isArray(raw) ? raw : typeof raw === 'object' ? Object.values(raw) : [raw];
      // A form post provides the ticked requirements; a bare POST (scripts, older tests) provides everything.
      if (ctx.params.form === undefined) completeOnboarding(ctx.emu, state);
      else {
        const previous = { requirements: structuredClone(state.account.requirements) };
        clearRequirements(state.account.requirements, (req) => provided.includes(req));
        if (provided.includes('external_account')) ensureBankAccount(ctx.emu, state);
        refreshAccount(ctx.emu, state, previous, true);
      }
    }
    return RawResponse.redirect(link.return_url);
  }, 'none');
  r.add('GET', '/_emulator/connect/express/:id', (_ctx, [id]) => RawResponse.html(page('Express dashboard', `<p>Express dashboard of <code>${escapeHtml(id as string)}</code> (emulated).</p>`)), 'none');
}
