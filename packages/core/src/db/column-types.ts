import type { ValueTransformer } from 'typeorm';
import { assertMinorUnits } from '../money/money';

/**
 * bigint columns arrive from pg as strings (they may exceed 2^53). Money and counters in Kassa stay
 * within safe integers, so they are read as numbers and checked on the way in and out.
 */
export const minorUnits: ValueTransformer = {
  to: (value: unknown) => {
    if (value === null || value === undefined) return value;
    if (typeof value === 'object') return value; // FindOperator (e.g. MoreThan(…)) passes through
    assertMinorUnits(value);
    return value;
  },
  from: (value: string | null) => {
    if (value === null || value === undefined) return value;
    const n = Number(value);
    assertMinorUnits(n);
    return n;
  },
};

/** Timestamps are stored as timestamptz and handled as Date in UTC. */
export const timestamptz = { type: 'timestamptz' } as const;
