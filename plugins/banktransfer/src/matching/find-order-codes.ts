/** What the code finder needs to know about an order. */
export interface CodedOrder {
  readonly code: string;
  readonly eventSlug: string;
}

/**
 * Finds order codes in a transfer's reference text, as pretix does, tolerating what buyers and
 * banks do to a reference: upper/lower case, spaces and dashes inside it ("demo - abc 12"), line
 * breaks, and the event slug in front or not ("DEMO-ABC12", "ABC12").
 *
 * - With the slug: the text (spaces, dashes and underscores removed) holds slug + code, and the
 *   code ends at a word boundary of the original text.
 * - Without it: the code stands as its own word, or split over at most three adjacent words
 *   ("ABC 12"), so a code-like run of letters inside a longer word is not taken for an order.
 *
 * A bare code that belongs to orders of several events (organizer-wide import) is ambiguous and
 * ignored; with the slug it is not. Returns each order once, in order of appearance.
 */
export function findOrderCodes<T extends CodedOrder>(reference: string, orders: readonly T[]): T[] {
  const upper = reference.toUpperCase();
  const byCode = new Map<string, T[]>();
  for (const o of orders) {
    const code = o.code.toUpperCase();
    byCode.set(code, [...(byCode.get(code) ?? []), o]);
  }
  // Longest first: at one place in the text the longest code that fits wins, as a greedy regex would.
  const lengths = [...new Set([...byCode.keys()].map((c) => c.length))].sort((a, b) => b - a);
  const found: { at: number; order: T }[] = [];

  // Slug + code, wherever it stands.
  const positions: number[] = [];
  let compact = '';
  for (let i = 0; i < upper.length; i++) {
    if (/[\s\-_]/.test(upper[i]!)) continue;
    positions.push(i);
    compact += upper[i];
  }
  for (const slug of new Set(orders.map((o) => compactSlug(o.eventSlug)))) {
    for (let at = compact.indexOf(slug); at >= 0; at = compact.indexOf(slug, at + 1)) {
      for (const len of lengths) {
        const end = at + slug.length + len;
        const candidate = compact.slice(at + slug.length, end);
        // The code must end there: "DEMO-ABC123" is not order ABC12 (codes may differ in length).
        if (end > compact.length || /[A-Z0-9]/.test(upper[positions[end - 1]! + 1] ?? '')) continue;
        const order = byCode.get(candidate)?.find((o) => compactSlug(o.eventSlug) === slug);
        if (order) {
          found.push({ at: positions[at]!, order });
          break;
        }
      }
    }
  }

  // A bare code: one to three adjacent words.
  const words = [...upper.matchAll(/[A-Z0-9]+/g)];
  for (let i = 0; i < words.length; i++) {
    let joined = '';
    for (let j = i; j < Math.min(i + 3, words.length); j++) {
      if (j > i && !/^[\s-]*$/.test(upper.slice(words[j - 1]!.index! + words[j - 1]![0].length, words[j]!.index))) break;
      joined += words[j]![0];
      const matches = byCode.get(joined);
      if (matches && matches.length === 1) found.push({ at: words[i]!.index!, order: matches[0]! });
    }
  }

  found.sort((a, b) => a.at - b.at);
  const result: T[] = [];
  for (const { order } of found) if (!result.includes(order)) result.push(order);
  return result;
}

function compactSlug(slug: string): string {
  return slug.toUpperCase().replace(/[\s\-_]+/g, '');
}
