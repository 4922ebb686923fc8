import { KassaError, errorCodes, isKassaError, type ErrorCode } from '../../src/host';

const codes = Object.keys(errorCodes) as ErrorCode[];

describe('error catalogue', () => {
  it.each(codes)('%s has a stable code, an HTTP error status and a message', (code) => {
    const def = errorCodes[code];
    expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
    expect(Number.isInteger(def.status)).toBe(true);
    expect(def.status).toBeGreaterThanOrEqual(400);
    expect(def.status).toBeLessThanOrEqual(599);
    expect(def.message.trim().length).toBeGreaterThan(0);
    // Placeholders are {word}; a stray brace would never be filled.
    expect(def.message.replace(/\{\w+\}/g, '')).not.toMatch(/[{}]/);
  });
});

describe('KassaError', () => {
  it('fills the message template from its params and carries code and status', () => {
    const err = new KassaError('MONEY_CURRENCY_MISMATCH', { left: 'EUR', right: 'USD' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('KassaError');
    expect(err.code).toBe('MONEY_CURRENCY_MISMATCH');
    expect(err.status).toBe(400);
    expect(err.message).toBe('Currency mismatch: EUR vs USD');
  });

  it('renders numbers, booleans and null, and leaves a missing param visible', () => {
    const err = new KassaError('REFUND_AMOUNT_EXCEEDS_AVAILABLE', { amount: 500, available: 0, payment: null });
    expect(err.message).toBe('Refund of 500 exceeds the 0 still refundable on payment null');
    expect(new KassaError('NOT_FOUND').message).toBe('{entity} not found');
  });

  it('serialises to { code, message, params } and nothing else', () => {
    const err = new KassaError('NOT_FOUND', { entity: 'Order ABC12' });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'NOT_FOUND',
      message: 'Order ABC12 not found',
      params: { entity: 'Order ABC12' },
    });
  });

  it('keeps the cause for logs', () => {
    const cause = new Error('socket hang up');
    expect(new KassaError('PROVIDER_ERROR', { provider: 'stripe', detail: 'timeout' }, { cause }).cause).toBe(cause);
  });

  it('is recognised by isKassaError, optionally by code', () => {
    const err = new KassaError('STATE_CONFLICT', { machine: 'Order', id: 'o1', expected: 'pending' });
    expect(isKassaError(err)).toBe(true);
    expect(isKassaError(err, 'STATE_CONFLICT')).toBe(true);
    expect(isKassaError(err, 'NOT_FOUND')).toBe(false);
    expect(isKassaError(new Error('plain'))).toBe(false);
    expect(isKassaError({ code: 'STATE_CONFLICT' })).toBe(false);
  });
});
