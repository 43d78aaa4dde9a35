import { MINIMUM_INTERVAL_HOURS, type ConsistencyMode } from '../policy';

/**
 * The per-VM rules of Azure that RPO plans for instead of discovering (DESIGN §1, docs/pacing.md "One VM"):
 *
 * 1. at most one restore point creation per VM at a time, across every trigger: a lease held by the one
 *    orchestration that creates, with an expiry so that a terminated holder cannot block the VM for ever;
 * 2. at most {@link PUTS_PER_VM_PER_HOUR} restore point PUTs per VM per hour and mode, retries included: every
 *    PUT is written down before it is sent, so a PUT whose answer was lost still counts;
 * 3. the mode's minimum interval between two restore points that Azure actually created;
 * 4. a PUT Azure accepted is never sent twice: the name of each PUT is written down before it is sent, so the
 *    create activity, run again after a crash (Durable Functions runs activities at least once), finds its
 *    own name and looks for the point before sending.
 *
 * Pure: the state is one small record per VM (lib/tables/stateStore keeps it), time is passed in.
 */

/** Azure: 3 restore point PUTs per VM per hour, per consistency mode (limits A3). */
export const PUTS_PER_VM_PER_HOUR = 3;
const HOUR_MS = 3_600_000;

export type ModeFamily = 'application' | 'crash';

/** Azure counts crash-consistent and application-consistent (incl. FileSystemConsistent) apart. */
export function modeFamily(mode: string | undefined): ModeFamily {
  return mode?.toLowerCase() === 'crashconsistent' ? 'crash' : 'application';
}

export function minimumIntervalMs(mode: ConsistencyMode): number {
  return MINIMUM_INTERVAL_HOURS[mode] * HOUR_MS;
}

export interface VmGateState {
  /** The orchestration instance that holds the VM, if any. */
  readonly holder?: string;
  readonly leaseUntilMs?: number;
  /** What the holder is doing, for whoever has to wait (`policy gold, slot …`). */
  readonly purpose?: string;
  /** PUT times of the last hour, per mode family. */
  readonly puts: Readonly<Record<ModeFamily, readonly number[]>>;
  /** The last restore point PUT written down as sent (rule 4). */
  readonly lastSend?: { readonly name: string; readonly atMs: number };
}

export const EMPTY_GATE: VmGateState = Object.freeze({ puts: { application: [], crash: [] } });

export type AcquireResult =
  | { readonly kind: 'granted'; readonly state: VmGateState }
  | { readonly kind: 'busy'; readonly holder: string; readonly purpose: string | undefined; readonly untilMs: number };

/** Takes (or renews) the VM for `holder` until `untilMs`. The same holder asking again is granted: replays retry. */
export function acquire(
  state: VmGateState,
  holder: string,
  purpose: string,
  nowMs: number,
  untilMs: number,
): AcquireResult {
  const held = state.holder !== undefined && (state.leaseUntilMs ?? 0) > nowMs;
  if (held && state.holder !== holder) {
    return { kind: 'busy', holder: state.holder, purpose: state.purpose, untilMs: state.leaseUntilMs as number };
  }
  return { kind: 'granted', state: { ...prune(state, nowMs), holder, purpose, leaseUntilMs: untilMs } };
}

/** Gives the VM back; only its holder can (a late release of an expired lease must not free someone else's). */
export function release(state: VmGateState, holder: string): VmGateState {
  if (state.holder !== holder) return state;
  return { puts: state.puts };
}

export type PutBudget =
  | { readonly kind: 'allowed'; readonly state: VmGateState; readonly remaining: number }
  | { readonly kind: 'exhausted'; readonly retryAtMs: number };

/**
 * Spends one PUT of the VM's hourly budget for `family`, or says when the next one is free. Called before the
 * PUT is sent, so a crash between the two errs on the side of Azure's limit.
 */
export function spendPut(state: VmGateState, family: ModeFamily, nowMs: number): PutBudget {
  const recent = prune(state, nowMs).puts[family];
  if (recent.length >= PUTS_PER_VM_PER_HOUR) {
    return { kind: 'exhausted', retryAtMs: (recent[recent.length - PUTS_PER_VM_PER_HOUR] as number) + HOUR_MS };
  }
  const puts = { ...state.puts, [family]: [...recent, nowMs] };
  return { kind: 'allowed', state: { ...state, puts }, remaining: PUTS_PER_VM_PER_HOUR - recent.length - 1 };
}

/**
 * Rule 4: writes down that a PUT of `name` is about to be sent; `resend` when one already was (a retry, or
 * the same activity run again after a crash): the point must be looked for by its name before sending.
 * The budget's newest PUT of the family (spent before the orchestrator's paced wait) moves to now: Azure
 * counts the hour from when the PUT arrives, and a PUT sent later than it was spent would otherwise let a
 * fourth one in less than an hour after it.
 */
export function markSend(
  state: VmGateState,
  name: string,
  family: ModeFamily,
  nowMs: number,
): { resend: boolean; state: VmGateState } {
  const times = state.puts[family];
  const newest = times[times.length - 1];
  const puts =
    newest !== undefined && newest < nowMs ? { ...state.puts, [family]: [...times.slice(0, -1), nowMs] } : state.puts;
  return { resend: state.lastSend?.name === name, state: { ...state, puts, lastSend: { name, atMs: nowMs } } };
}

function prune(state: VmGateState, nowMs: number): VmGateState {
  const keep = (times: readonly number[] | undefined) =>
    (times ?? []).filter((t) => t > nowMs - HOUR_MS && t <= nowMs + HOUR_MS);
  return { ...state, puts: { application: keep(state.puts.application), crash: keep(state.puts.crash) } };
}

export type IntervalCheck =
  { readonly kind: 'clear' } | { readonly kind: 'tooSoon'; readonly previousMs: number; readonly clearAtMs: number };

/**
 * Rule 3. `newestMs` is the creation time of the VM's newest restore point of the same mode family (RPO's or
 * not, any collection; failed and copied points do not count). A slot that starts late in its window
 * (00:00 run at 00:59) and the next slot (01:00) would otherwise put two points 1 minute apart.
 */
export function checkInterval(mode: ConsistencyMode, newestMs: number | undefined, nowMs: number): IntervalCheck {
  if (newestMs === undefined) return { kind: 'clear' };
  const clearAtMs = newestMs + minimumIntervalMs(mode);
  return nowMs >= clearAtMs ? { kind: 'clear' } : { kind: 'tooSoon', previousMs: newestMs, clearAtMs };
}
