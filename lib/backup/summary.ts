import { emptyCounts, type RunCounts } from '../tables/runStore';
import type { OutcomeStatus } from '../tables/outcomeStore';
import type { VmBackupResult } from '../../orchestrations/contracts';

/** Counts by status of a list of per-VM results. */
export function countResults(results: readonly Pick<VmBackupResult, 'status'>[]): RunCounts {
  const counts: Record<OutcomeStatus, number> = { ...emptyCounts() };
  for (const r of results) counts[r.status] += 1;
  return counts;
}

/** What a batch (or a whole run) adds up to. */
export interface RunTally {
  readonly total: number;
  readonly counts: RunCounts;
  readonly created: number;
  readonly fallbacks: number;
  readonly throttled: number;
}

export function tally(results: readonly VmBackupResult[]): RunTally {
  return {
    total: results.length,
    counts: countResults(results),
    created: results.filter((r) => r.status === 'Succeeded').length,
    fallbacks: results.filter((r) => r.fallback).length,
    throttled: results.reduce((sum, r) => sum + r.throttled, 0),
  };
}

export function addTallies(tallies: readonly RunTally[]): RunTally {
  const counts: Record<OutcomeStatus, number> = { ...emptyCounts() };
  for (const t of tallies)
    for (const status of Object.keys(counts) as OutcomeStatus[]) counts[status] += t.counts[status];
  return {
    total: tallies.reduce((s, t) => s + t.total, 0),
    counts,
    created: tallies.reduce((s, t) => s + t.created, 0),
    fallbacks: tallies.reduce((s, t) => s + t.fallbacks, 0),
    throttled: tallies.reduce((s, t) => s + t.throttled, 0),
  };
}
