import { KNOWN_API_VERSIONS } from './catalog/api-versions';
import type { Emulator } from './emulator';

/** Stripe refuses versions it never released (in Stripe-Version and in a webhook endpoint's api_version). */
export const isKnownApiVersion = (emu: Emulator, v: string): boolean => KNOWN_API_VERSIONS.has(v) || emu.options.extraApiVersions.includes(v);

/** §12: behaviours that depend on the API version, compared by the version's date part. */
export const versionAtLeast = (version: string, date: string): boolean => version.slice(0, 10) >= date;

/** 2024-04-10: capture_method defaults to automatic_async. */
export const defaultCaptureMethod = (v: string): 'automatic' | 'automatic_async' => (versionAtLeast(v, '2024-04-10') ? 'automatic_async' : 'automatic');
/** 2023-08-16: automatic_payment_methods on by default when no types are given. */
export const automaticPaymentMethodsByDefault = (v: string): boolean => versionAtLeast(v, '2023-08-16');
/** 2025-03-31.basil: an expired authorization is `expired`, not `automatic`. */
export const expiredCancellationReason = (v: string): string => (versionAtLeast(v, '2025-03-31') ? 'expired' : 'automatic');
/** 2026-09-30.endive: the `payment_method_types` request parameter is removed. */
export const paymentMethodTypesRemoved = (v: string): boolean => versionAtLeast(v, '2026-09-30');
