/** Turns anything thrown into an Error, keeping the original as `cause` when it was not one. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return new Error(`Non-Error thrown: ${text}`, { cause: value });
}
