/** Said everywhere the emulator shows itself: banner, header, pages, docs. */
export const EMULATOR_NOTICE =
  'Kassa Stripe emulator: a local, offline stand-in for the Stripe API, for development and tests only. It refuses live keys and moves no money.';
