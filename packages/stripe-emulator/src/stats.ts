import type { Emulator } from './emulator';
import type { AccountState } from './store';
import type { Charge } from './types';

interface AccountCounters {
  requests: number;
  rate_limited: number;
}

/**
 * Counters a benchmark reads after a run (GET /_emulator/stats): API requests, answers by status,
 * 429s from the rate limiter, injected faults by kind and idempotent replays, also per account.
 */
export class Stats {
  requests = 0;
  rateLimited = 0;
  replays = 0;
  readonly byStatus = new Map<number, number>();
  readonly faults = new Map<string, number>();
  readonly perAccount = new Map<string, AccountCounters>();

  private counters(account: string): AccountCounters {
    let c = this.perAccount.get(account);
    if (!c) {
      c = { requests: 0, rate_limited: 0 };
      this.perAccount.set(account, c);
    }
    return c;
  }

  request(account: string): void {
    this.requests++;
    this.counters(account).requests++;
  }

  limited(account: string): void {
    this.rateLimited++;
    this.counters(account).rate_limited++;
  }

  fault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  response(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  reset(): void {
    this.requests = this.rateLimited = this.replays = 0;
    this.byStatus.clear();
    this.faults.clear();
    this.perAccount.clear();
  }

  view(): Record<string, unknown> {
    return {
      requests: this.requests,
      rate_limited: this.rateLimited,
      idempotent_replays: this.replays,
      by_status: Object.fromEntries(this.byStatus),
      faults: Object.fromEntries(this.faults),
      accounts: Object.fromEntries(this.perAccount),
    };
  }
}

export interface ChargeGroup {
  value: string;
  charges: string[];
  amount: number;
}

/**
 * Successful charges of an account grouped by the Idempotency-Key of the request that made them
 * and, optionally, by one metadata key (the caller's own id for a logical payment, e.g. an
 * instalment). A group with more than one charge is a double charge.
 */
export function chargeReport(account: AccountState, metadataKey?: string): Record<string, unknown> {
  const charges = [...account.coll<Charge>('charge').values()];
  const ok = charges.filter((c) => c.status === 'succeeded');
  const group = (valueOf: (c: Charge) => string | null | undefined): ChargeGroup[] => {
    const m = new Map<string, ChargeGroup>();
    for (const c of ok) {
      const v = valueOf(c);
      if (!v) continue;
      const g = m.get(v) ?? { value: v, charges: [], amount: 0 };
      g.charges.push(c.id);
      g.amount += c.amount;
      m.set(v, g);
    }
    return [...m.values()].filter((g) => g.charges.length > 1);
  };
  const byKey = group((c) => account.chargeKeys.get(c.id));
  const byMetadata = metadataKey ? group((c) => c.metadata[metadataKey]) : [];
  const extra = (gs: ChargeGroup[]) => gs.reduce((n, g) => n + g.charges.length - 1, 0);
  return {
    account: account.id,
    charges: charges.length,
    succeeded: ok.length,
    failed: charges.filter((c) => c.status === 'failed').length,
    amount_succeeded: ok.reduce((n, c) => n + c.amount, 0),
    metadata_key: metadataKey ?? null,
    duplicate_idempotency_keys: byKey,
    duplicate_metadata: byMetadata,
    double_charges: Math.max(extra(byKey), extra(byMetadata)),
  };
}

/** Looks up the account a report is for: `account=acct_…` or the platform of `key=sk_test_…`. */
export function reportAccount(emu: Emulator, accountId: string | undefined, key: string | undefined): AccountState | undefined {
  if (accountId) return emu.account(accountId);
  return key?.startsWith('sk_test_') ? emu.platformForKey(key) : undefined;
}
