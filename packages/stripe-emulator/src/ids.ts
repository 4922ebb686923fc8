/** Seeded pseudo-random source: ids and fault/duplicate decisions repeat from run to run. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** mulberry32: fast, good enough for ids and coin flips (not for secrets). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class IdGenerator {
  constructor(private readonly random: Random) {}
  /** Stripe-shaped id: prefix plus 24 alphanumerics (never `_`, so `_secret_` splits cleanly). */
  id(prefix: string, length = 24): string {
    let s = prefix;
    for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(this.random.next() * 62)];
    return s;
  }
}

