import { createHash } from 'node:crypto';
import { KassaError, type PluginHttpRequest, type PluginHttpResponse } from '@kassa/core';
import type Stripe from 'stripe';
import { stripeCall } from '../../intents';
import type { StripeRuntime } from '../../stripe-state';
import { CONNECT_PAGE } from '../connect-routes';
import { connectionAt, platformContext, saveConnection, type ConnectedAccount } from '../connected-accounts';
import { parseBankInput } from './bank-input';
import { accountUpdateFrom, requirementFields, type Requirements } from './requirement-fields';

/*
 * Custom accounts keep the organizer inside Kassa (reference/stripe-spec.md §9): Stripe has no
 * dashboard for them, so the platform collects what Stripe asks for (a form built from the
 * account's requirements), manages the bank accounts payouts go to, and, for what only Stripe can
 * collect (identity documents), sends the organizer to an account-update link. Every route acts on
 * the signed-in organizer's own Custom connection (anything else is "not found"); Stripe is called
 * outside any transaction, with idempotency keys made from the connection's row id.
 */

export const CUSTOM_PAGE = `${CONNECT_PAGE}/custom`;

type Req = PluginHttpRequest<Record<string, string>, Record<string, unknown> | undefined>;

const notFound = (): KassaError => new KassaError('NOT_FOUND', { entity: 'Page' });

/** The organizer's live Custom connection, or "not found" (another type, none, or no organizer). */
async function customOf(req: Req, rt: StripeRuntime): Promise<ConnectedAccount> {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  const c = await connectionAt(rt, req.organizerId, null);
  if (!c || c.accountType !== 'custom') throw notFound();
  return c;
}

const digest = (...parts: unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);

const body = (req: Req): Record<string, unknown> => req.body ?? {};

const NOTICES: Record<string, string> = {
  submitted: 'Sent to Stripe. What Stripe still needs is listed below.',
  complete: 'Stripe has everything it needs for now.',
  'bank-added': 'The bank account is added.',
  'bank-default': 'The bank account is now the default for its currency.',
  'bank-deleted': 'The bank account is removed.',
};

/** GET /plugins/stripe/control/connect/custom — what Stripe needs now (as a form), the bank accounts, the update link. */
export async function handleCustomPage(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const c = await customOf(req, rt);
  const { stripe } = await platformContext(rt);
  const account = await stripeCall('read the connected account', () => stripe.accounts.retrieve(c.accountId));
  const banks = await stripeCall('list the bank accounts', () => stripe.accounts.listExternalAccounts(c.accountId, { object: 'bank_account', limit: 100 }));
  const r = (account.requirements ?? {}) as Requirements;
  const notice = typeof req.query.notice === 'string' ? NOTICES[req.query.notice] ?? null : null;
  return {
    status: 200,
    title: 'Stripe account details',
    view: {
      partial: 'stripe/connect-custom',
      data: {
        accountId: c.accountId,
        chargesEnabled: account.charges_enabled === true,
        payoutsEnabled: account.payouts_enabled === true,
        deadline: r.current_deadline ? new Date(r.current_deadline * 1000).toISOString() : null,
        disabledReason: r.disabled_reason ?? null,
        fields: requirementFields(r),
        defaultCurrency: account.default_currency ?? 'eur',
        banks: (banks.data as Stripe.BankAccount[]).map((b) => ({
          id: b.id, last4: b.last4, bankName: b.bank_name, country: b.country, currency: b.currency, holder: b.account_holder_name, isDefault: b.default_for_currency === true, status: b.status,
        })),
        notice,
        requirementsUrl: `${CUSTOM_PAGE}/requirements`,
        banksUrl: `${CUSTOM_PAGE}/bank-accounts`,
        updateUrl: `${CUSTOM_PAGE}/update`,
        connectUrl: CONNECT_PAGE,
      },
    },
  };
}

/**
 * POST …/custom/requirements — the form's answers as one account update. The idempotency key is
 * the connection, the answers and what Stripe asked for: a double submit updates once, while the
 * same answer to a new question of Stripe's is a new update. The account Stripe returns is stored.
 */
export async function handleRequirementsSubmit(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const c = await customOf(req, rt);
  const { stripe } = await platformContext(rt);
  const account = await stripeCall('read the connected account', () => stripe.accounts.retrieve(c.accountId));
  const r = (account.requirements ?? {}) as Requirements;
  const fields = requirementFields(r);
  const form = body(req);
  const params = accountUpdateFrom(fields, form, { now: rt.clock.now(), clientIp: req.clientIp, currency: account.default_currency ?? 'eur' });
  const answers = Object.fromEntries(fields.map((f) => [f.name, form[f.name] ?? null]));
  const updated = await stripeCall('update the connected account', () => stripe.accounts.update(
    c.accountId, params as Stripe.AccountUpdateParams, { idempotencyKey: `kassa-connect-${c.id}-update-${digest(answers, form.currency ?? null, r.currently_due ?? [], r.past_due ?? [])}` },
  ));
  const saved = await saveConnection(rt, { organizerId: c.organizerId, eventId: null, account: updated });
  const left = (updated.requirements?.currently_due?.length ?? 0) + (updated.requirements?.past_due?.length ?? 0);
  return { redirect: `${CUSTOM_PAGE}?notice=${left === 0 && saved.chargesEnabled ? 'complete' : 'submitted'}`, status: 303 };
}

/** POST …/custom/bank-accounts — adds a bank account (IBAN or bank token); it becomes the default for its currency. */
export async function handleBankAdd(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const c = await customOf(req, rt);
  const form = body(req);
  const value = typeof form.bank === 'string' ? form.bank : '';
  if (!value.trim()) throw new KassaError('VALIDATION_FAILED', { field: 'bank', detail: 'bank: enter an IBAN or a Stripe bank token' });
  const currency = typeof form.currency === 'string' && form.currency ? form.currency : 'eur';
  const external = parseBankInput('bank', value, currency, typeof form.account_holder_name === 'string' ? form.account_holder_name : '');
  const { stripe } = await platformContext(rt);
  await stripeCall('add the bank account', () => stripe.accounts.createExternalAccount(
    c.accountId, { external_account: external as string, default_for_currency: true }, { idempotencyKey: `kassa-connect-${c.id}-bank-${digest(external)}` },
  ));
  return { redirect: `${CUSTOM_PAGE}?notice=bank-added`, status: 303 };
}

/** The bank account named in the path, if it is one of this connection's (Stripe answers for the account we pass). */
function bankId(req: Req): string {
  const id = req.params.bankAccountId ?? '';
  if (!/^ba_[A-Za-z0-9]{1,64}$/.test(id)) throw notFound();
  return id;
}

async function ownBank(stripe: Stripe, c: ConnectedAccount, id: string): Promise<Stripe.BankAccount> {
  const list = await stripeCall('list the bank accounts', () => stripe.accounts.listExternalAccounts(c.accountId, { object: 'bank_account', limit: 100 }));
  const bank = (list.data as Stripe.BankAccount[]).find((b) => b.id === id);
  if (!bank) throw notFound();
  return bank;
}

/** POST …/custom/bank-accounts/:bankAccountId/default — payouts in its currency go to this one. */
export async function handleBankDefault(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const c = await customOf(req, rt);
  const id = bankId(req);
  const { stripe } = await platformContext(rt);
  await ownBank(stripe, c, id);
  await stripeCall('make the bank account the default', () => stripe.accounts.updateExternalAccount(
    c.accountId, id, { default_for_currency: true }, { idempotencyKey: `kassa-connect-${c.id}-bank-default-${id}` },
  ));
  return { redirect: `${CUSTOM_PAGE}?notice=bank-default`, status: 303 };
}

/** POST …/custom/bank-accounts/:bankAccountId/delete — not the default of its currency (Stripe refuses that too). */
export async function handleBankDelete(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const c = await customOf(req, rt);
  const id = bankId(req);
  const { stripe } = await platformContext(rt);
  const bank = await ownBank(stripe, c, id);
  // Stripe keeps a default per payout currency; say so before asking (a 400 naming the field, not Stripe's refusal).
  if (bank.default_for_currency) throw new KassaError('VALIDATION_FAILED', { field: 'bankAccountId', detail: 'bankAccountId: the default bank account of its currency cannot be removed; make another one the default first' });
  await stripeCall('remove the bank account', () => stripe.accounts.deleteExternalAccount(c.accountId, id));
  return { redirect: `${CUSTOM_PAGE}?notice=bank-deleted`, status: 303 };
}

/**
 * GET …/custom/update — to a fresh account-update link at Stripe (Custom accounts only, §9), for
 * what Kassa's form cannot collect (identity documents). Also the link's refresh_url; the return
 * goes through the onboarding return, which reads the account again. A link, not a form: the CSP's
 * form-action would stop a post that redirects to Stripe.
 */
export async function handleUpdateLink(req: Req, rt: StripeRuntime): Promise<PluginHttpResponse> {
  const c = await customOf(req, rt);
  const { stripe } = await platformContext(rt);
  const link = await stripeCall('create the account-update link', () => stripe.accountLinks.create({
    account: c.accountId, type: 'account_update', refresh_url: `${rt.baseUrl}${CUSTOM_PAGE}/update`, return_url: `${rt.baseUrl}${CONNECT_PAGE}/onboard/return`,
  }));
  return { status: 303, headers: { location: link.url, 'cache-control': 'no-store' } };
}
