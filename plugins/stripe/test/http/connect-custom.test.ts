import { createShop, type ShopFixture } from '@kassa/testing';
import { globalSettings } from '@kassa/core/host';
import { STRIPE_NAMESPACE, createStripeClient } from '../../src';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * Custom accounts kept inside Kassa, through the real server (session, CSRF) against the emulator:
 * the form built from the account's requirements, each answer cleared at Stripe until charges are
 * enabled, Stripe asking again (with a reason), bank accounts, the account-update link; bad input is
 * a 400 naming the field, and no organizer reaches another's account.
 */
describe('Stripe Connect: Custom accounts kept inside Kassa', () => {
  let h: ServerHarness;
  let other: ShopFixture;
  const PAGE = '/plugins/stripe/control/connect';
  const CUSTOM = `${PAGE}/custom`;
  const IBAN = 'DE89 3704 0044 0532 0130 00';
  const IBAN2 = 'FR14 2004 1010 0505 0001 3M02 606';

  beforeAll(async () => {
    h = await createServerHarness();
    const keys = h.emulator.keysFor(h.instanceKey);
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, {
      platformSecretKey: h.instanceKey, platformPublishableKey: keys.publishableKey, connectAccountType: 'custom',
    });
    other = await createShop(h.db.dataSource, { price: 1000 });
  });
  afterAll(async () => { await h.destroy(); });

  const platform = () => createStripeClient({ secretKey: h.instanceKey, apiBase: h.emulator.url, maxNetworkRetries: 0 });
  const row = async (organizerId: string) => (await h.db.dataSource.query(
    'SELECT account_id, account_type, charges_enabled, details_submitted, requirements FROM stripe_connected_account WHERE organizer_id = $1 AND disconnected_at IS NULL', [organizerId]))[0];

  async function browser(organizerId: string) {
    const { cookie, csrf } = await h.signIn(organizerId);
    return {
      cookie,
      get: (url: string) => h.app.inject({ method: 'GET', url, headers: { cookie } }),
      post: (url: string, fields: Record<string, string> = {}, token: string | null = csrf) => h.app.inject({
        method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ...(token ? { _csrf: token } : {}), ...fields }).toString(),
      }),
    };
  }
  const due = async (accountId: string) => {
    const r = (await platform().accounts.retrieve(accountId)).requirements;
    return [...new Set([...(r?.past_due ?? []), ...(r?.currently_due ?? [])])].sort();
  };
  const control = (path: string, body: Record<string, string>) => fetch(`${h.emulator.url}/_emulator${path}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body),
  });

  let b: Awaited<ReturnType<typeof browser>>;
  let accountId: string;

  it('creates a Custom account; the page is a form of exactly what Stripe asks for, past due marked', async () => {
    b = await browser(h.shop.organizer.id);
    expect((await b.post(`${PAGE}/onboard`)).statusCode).toBe(303);
    const saved = await row(h.shop.organizer.id);
    expect(saved).toMatchObject({ account_type: 'custom', charges_enabled: false });
    accountId = saved.account_id;
    const connect = await b.get(PAGE);
    expect(connect.body).toContain(`href="${CUSTOM}"`);
    const page = await b.get(CUSTOM);
    expect(page.statusCode).toBe(200);
    for (const name of ['business_type', 'business_profile.url', 'external_account', 'tos_acceptance']) {
      expect(page.body).toContain(`name="${name}"`);
    }
    // A person (the representative) is collected by Stripe's own page: shown, with the update link, no input.
    expect(page.body).toContain('data-requirement="representative.first_name"');
    expect(page.body).not.toContain('name="representative.first_name"');
    // The two ToS requirements are one checkbox.
    expect(page.body).not.toContain('name="tos_acceptance.ip"');
    expect(page.body).toContain('past due');
    expect(page.body).toMatch(/name="_csrf" value="[^"]+"/);
  });

  it('bad input is a 400 naming the field, and nothing reaches Stripe', async () => {
    const before = await due(accountId);
    const cases: [Record<string, string>, string][] = [
      [{ 'business_profile.url': 'javascript:alert(1)' }, 'business_profile.url'],
      [{ business_type: 'pirate' }, 'business_type'],
      [{ external_account: 'DE00 1234' }, 'external_account'],
      [{ tos_acceptance: 'yes' }, 'tos_acceptance'],
      [{ 'business_profile.url': `https://example.org/${'x'.repeat(600)}` }, 'business_profile.url'],
      [{ unrelated: 'x' }, 'requirements'],
    ];
    for (const [fields, field] of cases) {
      const res = await b.post(`${CUSTOM}/requirements`, fields);
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(field);
    }
    expect(await due(accountId)).toEqual(before);
  });

  it('a forged form (no CSRF token) is refused and changes nothing', async () => {
    const before = await due(accountId);
    expect((await b.post(`${CUSTOM}/requirements`, { business_type: 'company' }, null)).statusCode).toBe(403);
    expect((await b.post(`${CUSTOM}/requirements`, { business_type: 'company' }, 'forged')).statusCode).toBe(403);
    expect((await b.post(`${CUSTOM}/bank-accounts`, { bank: IBAN }, null)).statusCode).toBe(403);
    expect(await due(accountId)).toEqual(before);
  });

  it('answers clear their requirements at Stripe; the rest is shown again until charges are enabled', async () => {
    const first = await b.post(`${CUSTOM}/requirements`, { business_type: 'company', 'business_profile.url': 'https://example.org' });
    expect(first.headers.location).toBe(`${CUSTOM}?notice=submitted`);
    expect(await due(accountId)).toEqual(['external_account', 'representative.first_name', 'tos_acceptance.date', 'tos_acceptance.ip']);
    const again = await b.get(CUSTOM);
    expect(again.body).not.toContain('name="business_type"');
    expect(again.body).toContain('name="external_account"');
    expect((await row(h.shop.organizer.id)).charges_enabled).toBe(false);

    const second = await b.post(`${CUSTOM}/requirements`, { external_account: IBAN, currency: 'eur', tos_acceptance: 'accepted' });
    expect(second.headers.location).toBe(`${CUSTOM}?notice=submitted`);
    expect(await due(accountId)).toEqual(['representative.first_name']);
    expect((await row(h.shop.organizer.id)).charges_enabled).toBe(false);

    // The representative is given at Stripe, through the account-update link; back in Kassa the account is read again.
    const go = await b.get(`${CUSTOM}/update`);
    expect(go.statusCode).toBe(303);
    const link = String(go.headers.location);
    const html = await (await fetch(link)).text();
    expect(html).toContain('(account_update)');
    expect(html).toContain('data-requirement="representative.first_name"');
    const token = new URL(link).pathname.split('/').pop() as string;
    const done = await fetch(`${h.emulator.url}/_emulator/connect/onboarding/${token}/complete`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ form: '1', 'provide[0]': 'representative.first_name' }),
    });
    const back = new URL(String(done.headers.get('location')));
    expect(back.pathname).toBe(`${PAGE}/onboard/return`);
    expect((await b.get(back.pathname)).headers.location).toBe(`${PAGE}?notice=onboarded`);
    expect(await due(accountId)).toEqual([]);
    const account = await platform().accounts.retrieve(accountId);
    expect(account.charges_enabled).toBe(true);
    expect(account.tos_acceptance?.ip).toBeTruthy();
    expect(account.business_profile?.url).toBe('https://example.org');
    expect(await row(h.shop.organizer.id)).toMatchObject({ charges_enabled: true, details_submitted: true });
    expect((await b.get(CUSTOM)).body).toContain('id="stripe-custom-nothing-due"');
  });

  it('when Stripe asks for more (with a reason), the form is shown again with the reason, and the answer clears it', async () => {
    await control(`/accounts/${accountId}/requirements`, {
      'currently_due[0]': 'individual.dob.day', 'currently_due[1]': 'individual.dob.month', 'currently_due[2]': 'individual.dob.year', 'currently_due[3]': 'individual.verification.document',
      'errors[0][requirement]': 'individual.dob.year', 'errors[0][code]': 'invalid_value_other', 'errors[0][reason]': 'The date of birth does not match the ID.',
      deadline_in_seconds: '86400',
    });
    const page = await b.get(CUSTOM);
    expect(page.body).toContain('name="individual.dob"');
    expect(page.body).toContain('type="date"');
    expect(page.body).toContain('The date of birth does not match the ID.');
    expect(page.body).toContain('id="stripe-custom-deadline"');
    // A document is collected by Stripe itself: no input, the update link instead.
    expect(page.body).not.toContain('name="individual.verification.document"');
    expect((await b.post(`${CUSTOM}/requirements`, { 'individual.dob': '2999-01-01' })).body).toContain('individual.dob');
    const res = await b.post(`${CUSTOM}/requirements`, { 'individual.dob': '1980-02-29' });
    expect(res.statusCode).toBe(303);
    expect(await due(accountId)).toEqual(['individual.verification.document']);
  });

  it('bank accounts: add (twice the same is one), make default, remove; the default is not removable', async () => {
    const list = async () => (await platform().accounts.listExternalAccounts(accountId, { object: 'bank_account' })).data as { id: string; last4: string; default_for_currency: boolean; currency: string }[];
    const before = (await list()).length;
    expect((await b.post(`${CUSTOM}/bank-accounts`, { bank: 'GB00 0000' })).statusCode).toBe(400);
    expect((await b.post(`${CUSTOM}/bank-accounts`, { bank: IBAN2, currency: 'e' })).body).toContain('currency');
    expect((await b.post(`${CUSTOM}/bank-accounts`, { bank: '' })).body).toContain('bank');
    // A double click sends the same form twice: one bank account.
    expect((await b.post(`${CUSTOM}/bank-accounts`, { bank: IBAN2, currency: 'eur', account_holder_name: 'Ada L' })).headers.location).toBe(`${CUSTOM}?notice=bank-added`);
    await b.post(`${CUSTOM}/bank-accounts`, { bank: IBAN2, currency: 'eur', account_holder_name: 'Ada L' });
    const after = await list();
    expect(after).toHaveLength(before + 1);
    const added = after.find((x) => x.last4 === '2606');
    const old = after.find((x) => x.last4 === '3000');
    expect(added?.default_for_currency).toBe(true);
    expect(old?.default_for_currency).toBe(false);
    const page = await b.get(CUSTOM);
    expect(page.body).toContain(`data-bank="${added?.id}"`);
    expect(page.body).toContain('(Ada L)');

    const del = await b.post(`${CUSTOM}/bank-accounts/${added?.id}/delete`);
    expect(del.statusCode).toBe(400);
    expect(del.body).toContain('bankAccountId');
    expect((await b.post(`${CUSTOM}/bank-accounts/${old?.id}/default`)).headers.location).toBe(`${CUSTOM}?notice=bank-default`);
    expect((await b.post(`${CUSTOM}/bank-accounts/${added?.id}/delete`)).headers.location).toBe(`${CUSTOM}?notice=bank-deleted`);
    const final = await list();
    expect(final.map((x) => x.id)).toEqual([old?.id]);
    expect(final[0]?.default_for_currency).toBe(true);
    // A bank token (Stripe's test token) is accepted as it is.
    expect((await b.post(`${CUSTOM}/bank-accounts`, { bank: 'btok_us_verified', currency: 'usd' })).statusCode).toBe(303);
  });

  it('another organizer reaches nothing of it: not the page, not its bank accounts; nor does a non-Custom connection', async () => {
    const o = await browser(other.organizer.id);
    // No connection: not found.
    expect((await o.get(CUSTOM)).statusCode).toBe(404);
    expect((await o.get(`${CUSTOM}/update`)).statusCode).toBe(404);
    // Its own Custom account, then the first organizer's bank account id.
    await o.post(`${PAGE}/onboard`);
    const mine = (await row(other.organizer.id)).account_id as string;
    expect(mine).not.toBe(accountId);
    const theirs = (await platform().accounts.listExternalAccounts(accountId, { object: 'bank_account' })).data[0]?.id as string;
    const before = (await platform().accounts.listExternalAccounts(accountId, { object: 'bank_account' })).data.length;
    expect((await o.post(`${CUSTOM}/bank-accounts/${theirs}/delete`)).statusCode).toBe(404);
    expect((await o.post(`${CUSTOM}/bank-accounts/${theirs}/default`)).statusCode).toBe(404);
    expect((await o.post(`${CUSTOM}/bank-accounts/not-an-id/default`)).statusCode).toBe(404);
    expect((await platform().accounts.listExternalAccounts(accountId, { object: 'bank_account' })).data).toHaveLength(before);
    const page = await o.get(CUSTOM);
    expect(page.body).toContain(mine);
    expect(page.body).not.toContain(accountId);
    // An Express connection has no Kassa-kept details.
    await o.post(`${PAGE}/disconnect`);
    await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { connectAccountType: 'express' });
    try {
      await o.post(`${PAGE}/onboard`);
      expect((await row(other.organizer.id)).account_type).toBe('express');
      expect((await o.get(CUSTOM)).statusCode).toBe(404);
      expect((await o.get(`${CUSTOM}/update`)).statusCode).toBe(404);
    } finally {
      await h.deps.settings.set(globalSettings, STRIPE_NAMESPACE, { connectAccountType: 'custom' });
    }
  });

  it('the pages are for teams that may change the organizer\'s settings', async () => {
    const o = await browser(h.shop.organizer.id);
    await h.db.dataSource.query('UPDATE team SET is_admin = false, can_change_organizer_settings = false WHERE organizer_id = $1', [h.shop.organizer.id]);
    try {
      expect((await o.get(CUSTOM)).statusCode).toBe(404);
      expect((await o.post(`${CUSTOM}/bank-accounts`, { bank: IBAN2 })).statusCode).toBe(404);
    } finally {
      await h.db.dataSource.query('UPDATE team SET is_admin = true, can_change_organizer_settings = true WHERE organizer_id = $1', [h.shop.organizer.id]);
    }
    expect((await o.get(CUSTOM)).statusCode).toBe(200);
  });
});
