import Stripe from 'stripe';
import { declineOutcome, intentOutcome } from '../../src/saved-methods/off-session';
import { RequestPacer, isRateLimited } from '../../src/saved-methods/request-pacer';

const cardError = (code: string, decline_code?: string) =>
  new Stripe.errors.StripeCardError({ type: 'card_error', code, ...(decline_code ? { decline_code } : {}), message: `${code} ${decline_code ?? ''}`, payment_intent: { id: 'pi_1' } } as never);

describe('Stripe off-session outcomes', () => {
  it('maps card errors to authentication, expired card, soft and hard declines', () => {
    expect(declineOutcome(cardError('authentication_required', 'authentication_required'))).toMatchObject({ kind: 'action_required', reason: 'authentication', info: { intentId: 'pi_1' } });
    expect(declineOutcome(cardError('expired_card', 'expired_card'))).toMatchObject({ kind: 'action_required', reason: 'expired_card' });
    expect(declineOutcome(cardError('card_declined', 'insufficient_funds'))).toMatchObject({ kind: 'soft_decline', code: 'insufficient_funds' });
    expect(declineOutcome(cardError('card_declined', 'try_again_later'))).toMatchObject({ kind: 'soft_decline' });
    expect(declineOutcome(cardError('card_declined', 'stolen_card'))).toMatchObject({ kind: 'action_required', reason: 'hard_decline', code: 'stolen_card' });
    expect(declineOutcome(cardError('card_declined'))).toMatchObject({ kind: 'action_required', reason: 'hard_decline' });
  });

  it('maps intent states', () => {
    const pi = (status: string) => ({ id: 'pi_2', status, last_payment_error: null }) as unknown as Stripe.PaymentIntent;
    expect(intentOutcome(pi('succeeded')).kind).toBe('succeeded');
    expect(intentOutcome(pi('processing')).kind).toBe('processing');
    expect(intentOutcome(pi('requires_action'))).toMatchObject({ kind: 'action_required', reason: 'authentication' });
    expect(intentOutcome(pi('requires_payment_method'))).toMatchObject({ kind: 'action_required', reason: 'hard_decline' });
  });
});

describe('RequestPacer', () => {
  const rateLimited = () => new Stripe.errors.StripeRateLimitError({ type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' } as never);

  it('a 429 slows the pace down and the request is sent again; other errors pass through', async () => {
    let now = 0;
    const pacer = new RequestPacer(1000, 1, () => now);
    let calls = 0;
    const answer = await pacer.run(async () => {
      calls++;
      now += 1;
      if (calls === 1) throw Object.assign(rateLimited(), { statusCode: 429 });
      return 'ok';
    });
    expect(answer).toBe('ok');
    expect(calls).toBe(2);
    expect(pacer.stats).toEqual({ requests: 2, rateLimited: 1 });
    expect(pacer.currentRate).toBeLessThan(1000);
    await expect(pacer.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(isRateLimited(new Error('x'))).toBe(false);
  });

  describe('as a token bucket', () => {
    beforeEach(() => { jest.useFakeTimers({ now: 0 }); });
    afterEach(() => { jest.useRealTimers(); });

    it('sends a short burst at once, then one request per 1/rate', async () => {
      const pacer = new RequestPacer(100, 1, () => Date.now(), 8, 250);
      const started: number[] = [];
      const runs = Array.from({ length: 50 }, () => pacer.run(async () => { started.push(Date.now()); }));
      await jest.advanceTimersByTimeAsync(0);
      // The first request and 250 ms worth of burst at 10 ms per request.
      expect(started).toHaveLength(26);
      await jest.advanceTimersByTimeAsync(100);
      expect(started).toHaveLength(36);
      await jest.advanceTimersByTimeAsync(1000);
      await Promise.all(runs);
      expect(started).toHaveLength(50);
      expect(started[49]).toBe(240);
    });

    it('after a 429 the requests waiting for a slot wait out the pause', async () => {
      const pacer = new RequestPacer(100, 1, () => Date.now(), 8, 250);
      const started: number[] = [];
      let first = true;
      const runs = Array.from({ length: 40 }, () => pacer.run(async () => {
        started.push(Date.now());
        if (first) {
          first = false;
          throw Object.assign(rateLimited(), { statusCode: 429 });
        }
      }));
      await jest.advanceTimersByTimeAsync(0);
      expect(started).toHaveLength(26);
      // The pause is 100 ms: none of the 14 waiting requests nor the retry starts before it ends.
      await jest.advanceTimersByTimeAsync(99);
      expect(started).toHaveLength(26);
      await jest.advanceTimersByTimeAsync(2000);
      await Promise.all(runs);
      expect(started).toHaveLength(41);
      expect(pacer.stats.rateLimited).toBe(1);
      expect(Math.min(...started.slice(26))).toBeGreaterThanOrEqual(100);
    });
  });
});
