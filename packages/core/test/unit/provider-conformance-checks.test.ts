import { jsonProblems, paymentOutcomeProblems, viewModelProblems } from '@kassa/testing';

// The conformance suite's own checks: each must catch the mistake it exists for.

describe('paymentOutcomeProblems', () => {
  it.each([
    [{ kind: 'confirmed' }],
    [{ kind: 'pending', info: { reference: 'r1', amounts: [1, 2], at: null } }],
    [{ kind: 'requires_action', redirectUrl: 'https://pay.example.org/3ds?x=1' }],
    [{ kind: 'declined', message: 'Card declined', code: 'card_declined' }],
    [{ kind: 'failed', message: 'Gateway timeout' }],
  ])('accepts %j', (outcome) => {
    expect(paymentOutcomeProblems(outcome)).toEqual([]);
  });

  it.each<[unknown, string]>([
    [undefined, 'must resolve to an outcome object'],
    [{ kind: 'paid' }, 'kind must be one of'],
    [{ kind: 'requires_action' }, 'absolute redirectUrl'],
    [{ kind: 'requires_action', redirectUrl: '/relative' }, 'absolute redirectUrl'],
    [{ kind: 'requires_action', redirectUrl: 'javascript:alert(1)' }, 'absolute redirectUrl'],
    [{ kind: 'declined' }, 'declined needs a message'],
    [{ kind: 'failed', message: '' }, 'failed needs a message'],
    [{ kind: 'confirmed', code: 42 }, 'code must be a string'],
    [{ kind: 'confirmed', info: { at: new Date() } }, 'info.at is a Date instance'],
    [{ kind: 'confirmed', info: { amount: 10n } }, 'info.amount is a bigint'],
    [{ kind: 'confirmed', info: { ratio: Number.NaN } }, 'info.ratio is not a finite number'],
    [{ kind: 'confirmed', info: { fn: () => 1 } }, 'info.fn is a function'],
  ])('refuses %p (%s)', (outcome, problem) => {
    expect(paymentOutcomeProblems(outcome).join('; ')).toContain(problem);
  });
});

describe('viewModelProblems', () => {
  it('accepts null and a { partial, data } view model', () => {
    expect(viewModelProblems(null, 'hook')).toEqual([]);
    expect(viewModelProblems({ partial: 'stripe/checkout', data: { amount: 1 } }, 'hook')).toEqual([]);
  });

  it.each<[unknown, string]>([
    [undefined, 'must return a view model or null'],
    ['<div>html</div>', 'must return a view model or null'],
    [{ partial: '../etc/passwd', data: {} }, 'partial must name a template'],
    [{ partial: 'stripe/checkout' }, 'data must be an object'],
    [{ partial: 'stripe/checkout', data: [] }, 'data must be an object'],
  ])('refuses %p', (value, problem) => {
    expect(viewModelProblems(value, 'hook').join('; ')).toContain(problem);
  });
});

describe('jsonProblems', () => {
  it('accepts plain JSON, nested', () => {
    expect(jsonProblems({ a: [1, 'x', true, null, { b: {} }] }, 'v')).toEqual([]);
  });

  it('names the path of what JSON would change', () => {
    expect(jsonProblems({ a: [1, undefined] }, 'v')).toEqual(['v.a[1] is a undefined, not JSON']);
    expect(jsonProblems({ m: new Map() }, 'v')).toEqual(['v.m is a Map instance, not plain JSON']);
  });
});
