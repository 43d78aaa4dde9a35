/** What one stored value may hold: Table storage keeps at most 64 KiB per property (no large-message blobs here). */
import type { DurableStore } from './store';

export function tooLarge(what: string, length: number, limit: number): string {
  return (
    `${what} is ${length} characters of JSON, more than the ${limit} a Table storage property holds ` +
    '(large-message blobs are not supported by the local host)'
  );
}

/** Throws when client-supplied JSON would not fit the store (the HTTP API answers 400). */
export function checkPayloadSize(store: DurableStore, what: string, text: string | null): void {
  const limit = store.maxValueLength;
  if (limit !== undefined && text !== null && text.length > limit)
    throw new PayloadTooLargeError(tooLarge(what, text.length, limit));
}

export class PayloadTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadTooLargeError';
  }
}
