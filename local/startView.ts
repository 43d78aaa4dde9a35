/**
 * The live terminal view of `npm start`: one block per finished policy cycle (per VM: created / skipped with
 * the reason / excluded disks / warnings / fallback / throttle waits), the compliance counts after it, and
 * a status line while cycles run. It reads what RPO wrote (RpoRuns, RpoOutcomes in Azurite) and asks the
 * app's own API for compliance, as an operator would.
 */
import type { Outcome } from '../lib/tables/outcomeStore';
import type { RunRecord } from '../lib/tables/runStore';
import type { PolicyDocument } from '../lib/tables/policyStore';
import type { RpoStores } from '../lib/tables/stores';

const SHORT_REASON = 70;

function vmName(vmId: string): string {
  return vmId.slice(vmId.lastIndexOf('/') + 1);
}

function clip(text: string, max = SHORT_REASON): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function minute(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

function duration(fromIso: string, toIso: string | undefined): string {
  if (toIso === undefined) return '';
  const s = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** One line per VM for one cycle. */
export function describeOutcome(o: Outcome): string {
  const name = vmName(o.vmId).padEnd(18);
  const excluded = (o.excludedDisks ?? []).map((d) => `${vmName(d.id)} (${d.reason.split(':')[0] ?? d.reason})`);
  const parts: string[] = [];
  if (o.operation === 'skip') parts.push(`skipped  ${o.errorCode ?? ''}: ${clip(o.errorMessage ?? '')}`);
  else if (o.status === 'Succeeded')
    parts.push(`created  ${o.consistencyMode ?? ''}${o.fallback === true ? '  FALLBACK from app-consistent' : ''}`);
  else parts.push(`${o.status.toLowerCase().padEnd(8)} ${o.errorCode ?? ''}: ${clip(o.errorMessage ?? '')}`);
  if (excluded.length > 0) parts.push(`excluded ${excluded.join(', ')}`);
  const warnings = (o.warnings ?? []).length;
  if (warnings > 0 && o.operation !== 'skip') parts.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  if ((o.throttled ?? 0) > 0) parts.push(`${o.throttled} throttle wait${o.throttled === 1 ? '' : 's'}`);
  if ((o.attempts ?? 1) > 1) parts.push(`${o.attempts} attempts`);
  return `   ${name} ${parts.join(' · ')}`;
}

export function describeRun(run: RunRecord, outcomes: readonly Outcome[]): string[] {
  const slot = /slot (\S+)/.exec(run.message ?? '')?.[1] ?? run.startedAt;
  const c = run.counts;
  if (run.state === 'Missed')
    return [`── ${run.policy ?? '?'} · slot ${minute(slot)} UTC · MISSED (not run within its start window)`];
  const creates = outcomes.filter((o) => o.operation === 'create' || o.operation === 'skip');
  const deletes = outcomes.filter((o) => o.operation === 'delete');
  const fallbacks = creates.filter((o) => o.fallback === true).length;
  const throttled = creates.reduce((n, o) => n + (o.throttled ?? 0), 0);
  const header =
    `── ${run.policy ?? '?'} · slot ${minute(slot)} UTC · ${run.total ?? creates.length} VMs: ${c.Succeeded} created` +
    `${fallbacks > 0 ? ` (${fallbacks} by fallback)` : ''}, ${c.Skipped} skipped, ${c.Failed} failed · ${throttled} throttle waits` +
    `${deletes.length > 0 ? ` · retention deleted ${deletes.filter((d) => d.status === 'Succeeded').length}` : ''}` +
    ` · took ${duration(run.startedAt, run.finishedAt)}`;
  const byName = [...creates].sort((a, b) => (vmName(a.vmId) < vmName(b.vmId) ? -1 : 1));
  return [header, ...byName.map(describeOutcome)];
}

export interface ComplianceCounts {
  Protected: number;
  AtRisk: number;
  Breached: number;
  Unprotected: number;
}

export interface ViewOptions {
  readonly stores: RpoStores<PolicyDocument>;
  readonly apiUrl: string;
  readonly now: () => number;
  readonly say: (line: string) => void;
}

/** Polls for finished cycles and prints each once. Returns a stop function. */
export function startView(options: ViewOptions, everyMs = 2_000): () => void {
  const shown = new Set<string>();
  let busy = false;
  let lastStatus = 0;
  let first = true;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      if (first) {
        // A resumed stack: what earlier starts showed is not shown again.
        const earlier = await options.stores.runs.list({ kind: 'policyRun' });
        for (const run of earlier) if (run.state !== 'Running' && run.state !== 'Pending') shown.add(run.runId);
        if (shown.size > 0) options.say(`${shown.size} earlier cycles are in RpoRuns; showing new ones`);
        first = false;
      }
      const runs = await options.stores.runs.list({ kind: 'policyRun', top: 50 });
      const finished = runs
        .filter((r) => r.state !== 'Running' && r.state !== 'Pending' && !shown.has(r.runId))
        .reverse();
      for (const run of finished) {
        shown.add(run.runId);
        const outcomes = run.state === 'Missed' ? [] : await options.stores.outcomes.listOutcomesForRun(run.runId);
        for (const line of describeRun(run, outcomes)) options.say(line);
      }
      if (finished.length > 0) options.say(await complianceLine(options.apiUrl));
      const running = runs.filter((r) => r.state === 'Running');
      if (Date.now() - lastStatus > 10_000) {
        lastStatus = Date.now();
        const at = minute(new Date(options.now()).toISOString());
        options.say(
          `${at} UTC · ${running.length === 0 ? 'waiting for the next slot' : `running: ${running.map((r) => r.runId.replace(/^policy-run:/, '')).join(', ')}`}`,
        );
      }
    } catch {
      // Storage or the host not up yet: the next tick tries again.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function complianceLine(apiUrl: string): Promise<string> {
  try {
    const response = await fetch(`${apiUrl}/api/compliance`);
    const body = (await response.json()) as { counts?: ComplianceCounts };
    const c = body.counts;
    if (c === undefined) return `   compliance: unavailable (HTTP ${response.status})`;
    return `   compliance: ${c.Protected} Protected · ${c.AtRisk} AtRisk · ${c.Breached} Breached · ${c.Unprotected} Unprotected   (${apiUrl}/api/compliance)`;
  } catch (error) {
    return `   compliance: unavailable (${(error as Error).message})`;
  }
}
