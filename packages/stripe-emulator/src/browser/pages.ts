import { ApiError } from '../errors';
import type { Emulator } from '../emulator';
import { completeAuthentication } from '../resources/payment-intent-flow';
import { completeSetupAuthentication } from '../resources/setup-intents';
import { RawResponse, type Router } from '../router';
import type { PaymentIntent, SetupIntent } from '../types';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Every page carries the notice: this is a development/test double, not Stripe. */
export function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}button{font-size:1rem;margin:.3rem;padding:.5rem 1rem}
.notice{background:#fff3cd;border:1px solid #e0c060;padding:.5rem;font-size:.85rem}</style></head>
<body><p class="notice">Kassa Stripe emulator: for development and tests only. No real money moves.</p><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function findIntent(emu: Emulator, id: string): { kind: 'payment_intent' | 'setup_intent'; intent: PaymentIntent | SetupIntent; account: NonNullable<ReturnType<Emulator['ownerOf']>> } | undefined {
  const account = emu.ownerOf(id);
  if (!account) return undefined;
  if (id.startsWith('pi_')) {
    const intent = account.get<PaymentIntent>('payment_intent', id);
    return intent ? { kind: 'payment_intent', intent, account } : undefined;
  }
  const intent = account.get<SetupIntent>('setup_intent', id);
  return intent ? { kind: 'setup_intent', intent, account } : undefined;
}

/** The return URL contract of §11.5: intent id, client secret, redirect_status; merchant params kept. */
export function returnUrlFor(emu: Emulator, returnUrl: string, kind: 'payment_intent' | 'setup_intent', intent: PaymentIntent | SetupIntent): string {
  const u = new URL(returnUrl);
  const ok = intent.status === 'succeeded' || intent.status === 'requires_capture' || intent.status === 'processing';
  u.searchParams.set(kind, intent.id);
  u.searchParams.set(`${kind}_client_secret`, intent.client_secret);
  u.searchParams.set('redirect_status', ok ? emu.options.redirectStatus.succeeded : emu.options.redirectStatus.failed);
  return u.toString();
}

/** The emulator-hosted 3DS challenge (§1.9): Complete and Fail, as Stripe's test page offers. */
export function registerChallengePages(r: Router): void {
  r.add('GET', '/_emulator/3ds/:id', (ctx, [id]) => {
    const found = findIntent(ctx.emu, id as string);
    if (!found) return RawResponse.html(page('Unknown payment', '<p>No such PaymentIntent or SetupIntent.</p>'), 404);
    const mode = ctx.query.get('mode') === 'frame' ? 'frame' : 'redirect';
    const { intent } = found;
    const amount = 'amount' in intent ? `<p>Amount: <strong>${intent.amount} ${escapeHtml(intent.currency.toUpperCase())}</strong> (minor units)</p>` : '';
    const form = (action: string, label: string, btnId: string) =>
      `<form method="post" action="/_emulator/3ds/${escapeHtml(intent.id)}/${action}"><input type="hidden" name="mode" value="${mode}"><button id="${btnId}" type="submit">${label}</button></form>`;
    return RawResponse.html(
      page(
        '3D Secure test authentication',
        `<p>Intent <code>${escapeHtml(intent.id)}</code> (status ${escapeHtml(intent.status)}).</p>${amount}
${form('complete', 'Complete authentication', 'kassa-3ds-complete')}${form('fail', 'Fail authentication', 'kassa-3ds-fail')}`,
      ),
    );
  }, 'none');

  r.add('POST', '/_emulator/3ds/:id/:action', (ctx, [id, action]) => {
    const found = findIntent(ctx.emu, id as string);
    if (!found) throw new ApiError(404, 'invalid_request_error', `No such intent: '${id}'`, { code: 'resource_missing' });
    if (action !== 'complete' && action !== 'fail') throw new ApiError(404, 'invalid_request_error', `Unknown 3DS action: ${action}`);
    const { kind, intent, account } = found;
    const returnUrl = intent.next_action?.redirect_to_url?.return_url ?? null;
    const success = action === 'complete';
    if (kind === 'payment_intent') completeAuthentication(ctx.emu, account, intent as PaymentIntent, success);
    else completeSetupAuthentication(ctx.emu, account, intent as SetupIntent, success);
    const mode = typeof ctx.params.mode === 'string' ? ctx.params.mode : 'json';
    if (mode === 'frame') {
      const msg = JSON.stringify({ type: 'kassa-3ds-done', intent: intent.id, result: action });
      return RawResponse.html(page('Authentication finished', `<p>You can close this window.</p><script>parent.postMessage(${msg}, '*');</script>`));
    }
    if (mode === 'redirect') {
      if (returnUrl) return RawResponse.redirect(returnUrlFor(ctx.emu, returnUrl, kind, intent));
      return RawResponse.html(page('Authentication finished', `<p>Result: ${escapeHtml(action)}. Status: <span id="kassa-3ds-status">${escapeHtml(intent.status)}</span>.</p>`));
    }
    return intent;
  }, 'none');
}
