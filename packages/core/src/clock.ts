/** Time comes from an injected clock so that expiry and deadlines can be tested. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
