/**
 * Text that goes into Table entities: within Table's limits, and never a secret.
 *
 * A string property holds at most 64 KiB = 32,768 UTF-16 code units; we stay at 32,000 to leave room.
 */
export const MAX_PROPERTY_CHARS = 32_000;

/** Appended to a string cut to fit; `{n}` = how many characters were dropped. */
export function truncationMarker(dropped: number): string {
  return `…[truncated ${dropped} chars]`;
}

/** Cuts `text` to at most `max` UTF-16 code units, ending with a marker, and never in the middle of a surrogate pair. */
export function truncateText(text: string, max = MAX_PROPERTY_CHARS): string {
  if (text.length <= max) return text;
  let keep = max - truncationMarker(text.length).length;
  const last = text.charCodeAt(keep - 1);
  if (last >= 0xd800 && last <= 0xdbff) keep -= 1;
  return text.slice(0, keep) + truncationMarker(text.length - keep);
}

/**
 * JSON of an array that fits `max` characters: items are dropped from the end until it fits and `more(n)` is
 * appended to say how many went (so the stored value is always valid JSON).
 */
export function fitJsonArray<T>(items: readonly T[], more: (dropped: number) => T, max = MAX_PROPERTY_CHARS): string {
  let json = JSON.stringify(items);
  if (json.length <= max) return json;
  // Binary search for the longest prefix that fits together with its marker.
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const candidate = JSON.stringify([...items.slice(0, mid), more(items.length - mid)]);
    if (candidate.length <= max) low = mid;
    else high = mid - 1;
  }
  json = JSON.stringify([...items.slice(0, low), more(items.length - low)]);
  return json.length <= max ? json : JSON.stringify([]);
}

/** Splits a long string into property-sized chunks (for documents bigger than one property). */
export function chunkText(text: string, size = MAX_PROPERTY_CHARS): string[] {
  if (text.length === 0) return [''];
  const chunks: string[] = [];
  for (let i = 0; i < text.length;) {
    let end = Math.min(i + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(text.slice(i, end));
    i = end;
  }
  return chunks;
}
