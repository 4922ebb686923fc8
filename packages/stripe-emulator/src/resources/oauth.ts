import { RawResponse, type Ctx, type Router } from '../router';
import type { AccountState } from '../store';
import type { Emulator } from '../emulator';
import { escapeHtml, page } from '../browser/pages';

/** OAuth errors use their own envelope: `{error: "invalid_grant", error_description}` (§9.2). */
const oauthError = (status: number, error: string, description: string): RawResponse =>
  new RawResponse(status, { 'Content-Type': 'application/json' }, JSON.stringify({ error, error_description: description }));

const json = (body: unknown): RawResponse => new RawResponse(200, { 'Content-Type': 'application/json' }, JSON.stringify(body));

function platformByClientId(ctx: Ctx, clientId: string | null): AccountState | undefined {
  if (!clientId) return undefined;
  for (const a of ctx.emu.accounts.values()) if (a.clientId === clientId) return a;
  return undefined;
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

function issueTokens(ctx: Ctx, connected: AccountState, scope: string): Record<string, unknown> {
  const access = `sk_test_oauth_${ctx.emu.ids.id('', 24)}`;
  const refresh = `rt_${ctx.emu.ids.id('', 24)}`;
  ctx.emu.keys.set(access, connected.id);
  ctx.emu.refreshTokens.set(refresh, connected.id);
  return { access_token: access, refresh_token: refresh, token_type: 'bearer', stripe_publishable_key: connected.publishableKey, stripe_user_id: connected.id, scope, livemode: false };
}

/**
 * Ends a connection (the platform's /oauth/deauthorize, or the user revoking access in their
 * dashboard): account.application.deauthorized goes out while the account is still linked (so it
 * reaches the platform's Connect endpoints with `account`), then every call for it is refused.
 */
export function deauthorize(emu: Emulator, platform: AccountState, connected: AccountState): void {
  emu.emit(connected, 'account.application.deauthorized', { id: platform.clientId, object: 'application', name: 'Kassa emulator platform' });
  connected.platformId = null;
  for (const [key, id] of emu.keys) if (id === connected.id && key.startsWith('sk_test_oauth_')) emu.keys.delete(key);
  for (const [token, rid] of emu.refreshTokens) if (rid === connected.id) emu.refreshTokens.delete(token);
}

export function registerOAuth(r: Router): void {
  const authorizePage = (express: boolean) => (ctx: Ctx) => {
    const q = ctx.query;
    const clientId = q.get('client_id');
    const redirectUri = q.get('redirect_uri');
    if (!platformByClientId(ctx, clientId)) {
      return RawResponse.html(page('OAuth error', `<p>Unknown client_id <code>${escapeHtml(clientId ?? '')}</code>. The emulator's client id for a key is shown by GET /_emulator/info.</p>`), 400);
    }
    if (!redirectUri) return RawResponse.html(page('OAuth error', '<p>redirect_uri is required by the emulator.</p>'), 400);
    const hidden = ['client_id', 'redirect_uri', 'state', 'scope']
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q.get(k) ?? (k === 'scope' ? 'read_write' : ''))}">`)
      .join('');
    const action = `${express ? '/express' : ''}/oauth/authorize`;
    return RawResponse.html(
      page(
        'Connect with the Stripe emulator',
        `<p>Connect a new ${express ? 'Express' : 'Standard'} test account to <code>${escapeHtml(clientId ?? '')}</code>.</p>
<form method="post" action="${action}">${hidden}<button id="kassa-oauth-authorize" name="decision" value="allow" type="submit">Connect my account</button>
<button id="kassa-oauth-deny" name="decision" value="deny" type="submit">Deny</button></form>`,
      ),
    );
  };
  const authorizeDecision = (express: boolean) => (ctx: Ctx) => {
    const p = ctx.params as Record<string, string>;
    const platform = platformByClientId(ctx, p.client_id ?? null);
    if (!platform || !p.redirect_uri) return RawResponse.html(page('OAuth error', '<p>Unknown client_id or missing redirect_uri.</p>'), 400);
    const state = p.state ?? '';
    if (p.decision !== 'allow') {
      return RawResponse.redirect(withQuery(p.redirect_uri, { error: 'access_denied', error_description: 'The user denied your request', state }));
    }
    const id = ctx.emu.ids.id('acct_1', 15);
    const account = ctx.emu.newAccountObject(id, express ? 'express' : 'standard', 'US', null);
    Object.assign(account, { charges_enabled: true, payouts_enabled: true, details_submitted: true, capabilities: { card_payments: 'active', transfers: 'active' } });
    const connected = ctx.emu.addConnected(platform, account);
    ctx.emu.own(id, connected);
    const code = `ac_${ctx.emu.ids.id('', 24)}`;
    const scope = p.scope || 'read_write';
    ctx.emu.oauthCodes.set(code, { clientId: platform.clientId, accountId: id, scope, expiresAt: ctx.emu.nowSeconds() + ctx.emu.options.oauthCodeTtlSeconds, used: false });
    ctx.emu.emit(connected, 'account.application.authorized', { id: platform.clientId, object: 'application', name: 'Kassa emulator platform' });
    return RawResponse.redirect(withQuery(p.redirect_uri, { scope, code, state }));
  };
  r.add('GET', '/oauth/authorize', authorizePage(false), 'none');
  r.add('GET', '/express/oauth/authorize', authorizePage(true), 'none');
  r.add('POST', '/oauth/authorize', authorizeDecision(false), 'none');
  r.add('POST', '/express/oauth/authorize', authorizeDecision(true), 'none');

  r.add('POST', '/oauth/token', (ctx) => {
    const p = ctx.params as Record<string, string>;
    const grant = p.grant_type;
    if (grant === 'authorization_code') {
      const entry = p.code ? ctx.emu.oauthCodes.get(p.code) : undefined;
      if (!entry || entry.used) return oauthError(400, 'invalid_grant', `Authorization code does not exist: ${p.code ?? ''}`);
      if (entry.expiresAt < ctx.emu.nowSeconds()) return oauthError(400, 'invalid_grant', `Authorization code expired: ${p.code}`);
      if (entry.clientId !== ctx.platform.clientId) return oauthError(400, 'invalid_grant', `Authorization code provided does not belong to you: ${p.code}`);
      entry.used = true; // single use
      const connected = ctx.emu.account(entry.accountId);
      if (!connected) return oauthError(400, 'invalid_grant', 'The connected account no longer exists.');
      return json(issueTokens(ctx, connected, entry.scope));
    }
    if (grant === 'refresh_token') {
      const accountId = p.refresh_token ? ctx.emu.refreshTokens.get(p.refresh_token) : undefined;
      const connected = accountId ? ctx.emu.account(accountId) : undefined;
      if (!connected || connected.platformId !== ctx.platform.id) return oauthError(400, 'invalid_grant', `Invalid refresh token: ${p.refresh_token ?? ''}`);
      return json(issueTokens(ctx, connected, p.scope || 'read_write'));
    }
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grant ?? '(none)'}`);
  });

  r.add('POST', '/oauth/deauthorize', (ctx) => {
    const p = ctx.params as Record<string, string>;
    if (p.client_id !== ctx.platform.clientId) return oauthError(400, 'invalid_client', `No such application: '${p.client_id ?? ''}'`);
    const connected = p.stripe_user_id ? ctx.emu.account(p.stripe_user_id) : undefined;
    if (!connected || connected.platformId !== ctx.platform.id) return oauthError(400, 'invalid_client', `No such user: '${p.stripe_user_id ?? ''}'`);
    deauthorize(ctx.emu, ctx.platform, connected);
    return json({ stripe_user_id: connected.id });
  });
}
