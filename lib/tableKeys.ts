import { ValidationError } from './validation';

/**
 * Table storage keys for outcomes (DESIGN §5). Table keys may not contain `/ \ # ?` or control characters
 * and are at most 1 KiB, so ARM ids are encoded, reversibly:
 *
 * - the id is lower-cased (ARM ids are case-insensitive; one VM = one partition);
 * - `/` becomes `|` (readable: `|subscriptions|…|virtualmachines|web1`);
 * - each character in the escape set becomes `~` + two lower-case hex digits of its code: the forbidden
 *   `\ # ?`, control characters U+0000–U+001F and U+007F–U+009F, and, so that decoding is unambiguous,
 *   a literal `|` (`~7c`) and the escape character `~` itself (`~7e`);
 * - a lone UTF-16 surrogate (not storable as UTF-8) becomes `~u` + four hex digits.
 *
 * decodeKeyPart(encodeKeyPart(s)) === s and decodeVmPartitionKey(vmPartitionKey(id)) === id.toLowerCase().
 */

export const KEY_MAX_BYTES = 1024;
const ESCAPE = '~';

// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_KEY = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

function mustEscape(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x5c /* \ */ ||
    code === 0x23 /* # */ ||
    code === 0x3f /* ? */ ||
    code === 0x7c /* | */ ||
    code === 0x7e /* ~ */ ||
    code === 0x2f /* / (only reached by encodeKeyPart; the partition key maps it to | first) */
  );
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/** Escapes `text` (case kept) so it can be part of a PartitionKey or RowKey. `/` is escaped too (`~2f`). */
export function encodeKeyPart(text: string): string {
  return encode(text, false);
}

function encode(text: string, slashAsBar: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += text[i] + text.charAt(i + 1);
        i++;
      } else {
        out += `${ESCAPE}u${hex(code, 4)}`;
      }
    } else if (slashAsBar && code === 0x2f) {
      out += '|';
    } else if (mustEscape(code)) {
      out += ESCAPE + hex(code, 2);
    } else {
      out += text[i];
    }
  }
  return out;
}

/** Reverses {@link encodeKeyPart}; throws on a malformed escape. */
export function decodeKeyPart(key: string): string {
  return decode(key, false);
}

function decode(key: string, barAsSlash: boolean): string {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const ch = key.charAt(i);
    if (ch === ESCAPE) {
      const long = key.charAt(i + 1) === 'u';
      const digits = long ? key.slice(i + 2, i + 6) : key.slice(i + 1, i + 3);
      if (!/^[0-9a-f]+$/.test(digits) || digits.length !== (long ? 4 : 2)) {
        throw new ValidationError('table key', [
          { field: 'key', rule: 'escape', message: `has a malformed escape at position ${i}` },
        ]);
      }
      out += String.fromCharCode(parseInt(digits, 16));
      i += long ? 5 : 2;
    } else if (barAsSlash && ch === '|') {
      out += '/';
    } else {
      out += ch;
    }
  }
  return out;
}

function assertKeySize(key: string, field: string): string {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > KEY_MAX_BYTES) {
    throw new ValidationError('table key', [
      { field, rule: 'key-size', message: `encodes to ${bytes} bytes; Table keys are at most ${KEY_MAX_BYTES}` },
    ]);
  }
  return key;
}

/** PartitionKey of a VM: its ARM id lower-cased, `/` → `|`, other forbidden characters escaped (see top). */
export function vmPartitionKey(vmId: string): string {
  if (typeof vmId !== 'string' || vmId === '') {
    throw new ValidationError('table key', [
      { field: 'vmId', rule: 'required', message: 'must be a non-empty string' },
    ]);
  }
  return assertKeySize(encode(vmId.toLowerCase(), true), 'vmId');
}

/** The lower-cased VM id back from a PartitionKey made by {@link vmPartitionKey}. */
export function decodeVmPartitionKey(partitionKey: string): string {
  return decode(partitionKey, true);
}

/** True when `key` can be stored as a PartitionKey or RowKey as it is. */
export function isValidTableKey(key: string): boolean {
  return !FORBIDDEN_IN_KEY.test(key) && Buffer.byteLength(key, 'utf8') <= KEY_MAX_BYTES;
}

// ---------------------------------------------------------------------------------------------
// RowKey: inverted time + operation + restore point name

export const OPERATIONS = ['create', 'copy', 'delete', 'restore', 'skip'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Times up to this (exclusive; Nov 2286) fit the 13 digits of the inverted time. */
export const MAX_KEY_TIME_MS = 10 ** 13;
const TIME_DIGITS = 13;
const SEPARATOR = '_';

/** Between the name and the optional run id; escaped text never contains it (every `~` there starts an escape). */
const RUN_SEPARATOR = '~~';

/**
 * `{9999999999999 - ms, 13 digits}_{operation}_{escaped restore point name}[~~{escaped runId}]`: lexical order
 * is newest first, then operation, then name. The name may be empty (a skip with no point). The run id keeps
 * two runs that touch one VM in the same millisecond apart while a retried write of one outcome hits the same row.
 */
export function outcomeRowKey(timeMs: number, operation: Operation, restorePointName = '', runId?: string): string {
  if (!Number.isInteger(timeMs) || timeMs < 0 || timeMs >= MAX_KEY_TIME_MS) {
    throw new ValidationError('table key', [
      {
        field: 'time',
        rule: 'time-range',
        message: `must be whole milliseconds in [0, ${MAX_KEY_TIME_MS}), got ${timeMs}`,
      },
    ]);
  }
  if (!(OPERATIONS as readonly string[]).includes(operation)) {
    throw new ValidationError('table key', [
      {
        field: 'operation',
        rule: 'enum',
        message: `must be one of ${OPERATIONS.join(', ')}, got ${String(operation)}`,
      },
    ]);
  }
  const inverted = String(MAX_KEY_TIME_MS - 1 - timeMs).padStart(TIME_DIGITS, '0');
  const run = runId === undefined ? '' : RUN_SEPARATOR + encodeKeyPart(runId);
  return assertKeySize(
    `${inverted}${SEPARATOR}${operation}${SEPARATOR}${encodeKeyPart(restorePointName)}${run}`,
    'rowKey',
  );
}

export interface DecodedRowKey {
  readonly timeMs: number;
  readonly operation: Operation;
  readonly restorePointName: string;
  readonly runId?: string;
}

/** Reads a RowKey made by {@link outcomeRowKey}; `undefined` if it is not one. */
export function decodeRowKey(rowKey: string): DecodedRowKey | undefined {
  const match = /^(\d{13})_([a-z]+)_(.*)$/s.exec(rowKey);
  if (match === null) return undefined;
  const operation = match[2] as Operation;
  if (!OPERATIONS.includes(operation)) return undefined;
  const rest = match[3] as string;
  const split = rest.indexOf(RUN_SEPARATOR);
  try {
    const timeMs = MAX_KEY_TIME_MS - 1 - Number(match[1]);
    if (split === -1) return { timeMs, operation, restorePointName: decodeKeyPart(rest) };
    return {
      timeMs,
      operation,
      restorePointName: decodeKeyPart(rest.slice(0, split)),
      runId: decodeKeyPart(rest.slice(split + RUN_SEPARATOR.length)),
    };
  } catch {
    return undefined;
  }
}

/**
 * Exclusive upper bound for "at or after `timeMs`": exactly the rows with time >= timeMs have a RowKey below it
 * (their inverted time is <= that of `timeMs`, and every operation name sorts before `~`).
 */
export function rowKeyBoundSince(timeMs: number): string {
  const clamped = Math.max(0, Math.min(Math.floor(timeMs), MAX_KEY_TIME_MS - 1));
  return `${String(MAX_KEY_TIME_MS - 1 - clamped).padStart(TIME_DIGITS, '0')}${SEPARATOR}~`;
}
