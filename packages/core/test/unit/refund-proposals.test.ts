import { proposeRefundAmounts, type RefundCandidate } from '../../src/refund/refund-proposals';

const c = (paymentId: string, available: number, over: Partial<RefundCandidate> = {}): RefundCandidate =>
  ({ paymentId, available, amount: available, full: true, partial: true, ...over });

describe('proposeRefundAmounts (pretix propose_auto_refunds)', () => {
  it('prefers an exact match, refunded in full', () => {
    expect(proposeRefundAmounts(500, [c('a', 300), c('b', 500), c('c', 900)])).toEqual({ proposals: [{ paymentId: 'b', amount: 500 }], uncovered: 0 });
  });

  it('else takes the smallest bigger payment that can refund partially', () => {
    expect(proposeRefundAmounts(400, [c('a', 300), c('big', 900), c('mid', 500)])).toEqual({ proposals: [{ paymentId: 'mid', amount: 400 }], uncovered: 0 });
  });

  it('else refunds the largest smaller payment in full and goes on', () => {
    expect(proposeRefundAmounts(1000, [c('a', 300), c('b', 600), c('c', 200)])).toEqual({
      proposals: [{ paymentId: 'b', amount: 600 }, { paymentId: 'a', amount: 300 }, { paymentId: 'c', amount: 100 }], uncovered: 0,
    });
    expect(proposeRefundAmounts(1000, [c('a', 300), c('b', 600)])).toEqual({
      proposals: [{ paymentId: 'b', amount: 600 }, { paymentId: 'a', amount: 300 }], uncovered: 100,
    });
  });

  it('never refunds partially through a full-only payment', () => {
    const fullOnly = c('f', 500, { partial: false });
    expect(proposeRefundAmounts(400, [fullOnly])).toEqual({ proposals: [], uncovered: 400 });
    expect(proposeRefundAmounts(500, [fullOnly])).toEqual({ proposals: [{ paymentId: 'f', amount: 500 }], uncovered: 0 });
    // already partly refunded: what is left is no longer a full refund
    expect(proposeRefundAmounts(300, [c('f', 300, { amount: 500, partial: false })])).toEqual({ proposals: [], uncovered: 300 });
  });

  it('skips payments with nothing left', () => {
    expect(proposeRefundAmounts(100, [c('empty', 0), c('x', 100)])).toEqual({ proposals: [{ paymentId: 'x', amount: 100 }], uncovered: 0 });
  });
});
