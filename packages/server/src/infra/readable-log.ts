import type { LogLocale } from '@kassa/core/host';
import type { AppDeps } from '../deps';

/** A provider's name for people; the identifier when the provider is not installed (any more). */
export function providerName(deps: Pick<AppDeps, 'providers'>, identifier: string): string {
  return deps.providers.has(identifier) ? deps.providers.get(identifier).verboseName : identifier;
}

/** The log's language from Accept-Language: German when the browser prefers it to English, English otherwise. */
export function logLocaleOf(acceptLanguage: string | undefined): LogLocale {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.trim().toLowerCase();
    if (tag.startsWith('de')) return 'de';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}
