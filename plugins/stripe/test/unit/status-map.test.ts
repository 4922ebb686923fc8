import { intentVerdict, refundVerdict } from '../../src/status-map';

const base = { amount_received: 0, amount_capturable: 0, next_action: null, last_payment_error: null, cancellation_reason: null };

describe('PaymentIntent verdicts', () => {
  it('maps each status to what it means for our payment', () => {
    expect(intentVerdict({ ...base, status: 'succeeded', amount_received: 1000 })).toEqual({ kind: 'confirmed', amountReceived: 1000 });
    expect(intentVerdict({ ...base, status: 'requires_capture', amount_capturable: 700 })).toEqual({ kind: 'authorized', amountCapturable: 700 });
    expect(intentVerdict({ ...base, status: 'processing' })).toEqual({ kind: 'processing' });
    expect(intentVerdict({ ...base, status: 'requires_confirmation' })).toEqual({ kind: 'open' });
    expect(intentVerdict({ ...base, status: 'requires_payment_method' })).toEqual({ kind: 'open' });
    expect(intentVerdict({ ...base, status: 'canceled', cancellation_reason: 'expired' })).toEqual({ kind: 'canceled', reason: 'expired' });
  });

  it('carries the 3DS redirect URL', () => {
    const pi = { ...base, status: 'requires_action' as const, next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'http://x/3ds', return_url: 'http://y' } } };
    expect(intentVerdict(pi as never)).toEqual({ kind: 'requires_action', redirectUrl: 'http://x/3ds' });
  });

  it('treats requires_payment_method with an error as a failed attempt, preferring the decline code', () => {
    const pi = { ...base, status: 'requires_payment_method' as const, last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } };
    expect(intentVerdict(pi as never)).toEqual({ kind: 'failed', code: 'insufficient_funds', message: 'Your card has insufficient funds.' });
  });
});

describe('Refund verdicts', () => {
  it('books succeeded as done, pending as in transit, failed and canceled as such', () => {
    expect(['succeeded', 'pending', 'requires_action', 'failed', 'canceled'].map(refundVerdict))
      .toEqual(['done', 'transit', 'transit', 'failed', 'canceled']);
  });
});
