import type { Clock } from '@kassa/core/host';

/** A clock that only moves when the test says so. */
export class TestClock implements Clock {
  private current: Date;

  constructor(start: Date | string = '2030-01-01T12:00:00Z') {
    this.current = new Date(start);
  }

  now(): Date {
    return new Date(this.current.getTime());
  }

  /** Jumps to an absolute time. */
  set(to: Date | string): void {
    this.current = new Date(to);
  }

  /** Moves forward by the given amounts. */
  advance(by: { days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number }): void {
    const ms = (by.days ?? 0) * 86_400_000 + (by.hours ?? 0) * 3_600_000 + (by.minutes ?? 0) * 60_000
      + (by.seconds ?? 0) * 1000 + (by.ms ?? 0);
    this.current = new Date(this.current.getTime() + ms);
  }
}
