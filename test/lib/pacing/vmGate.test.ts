import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acquire,
  checkInterval,
  EMPTY_GATE,
  markSend,
  PUTS_PER_VM_PER_HOUR,
  release,
  spendPut,
  type VmGateState,
} from '../../../lib/pacing/vmGate';

const HOUR = 3_600_000;

describe('the per-VM gate', () => {
  it('lets at most 3 restore point PUTs of one mode into any hour, whatever the timing of the requests', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 * 60_000 }), { maxLength: 40 }), (gaps) => {
        let state: VmGateState = EMPTY_GATE;
        let now = 0;
        const sent: number[] = [];
        for (const gap of gaps) {
          now += gap;
          const budget = spendPut(state, 'crash', now);
          if (budget.kind === 'allowed') {
            state = budget.state;
            sent.push(now);
          } else {
            expect(budget.retryAtMs).toBeGreaterThan(now);
          }
        }
        for (const t of sent)
          expect(sent.filter((s) => s > t - HOUR && s <= t).length).toBeLessThanOrEqual(PUTS_PER_VM_PER_HOUR);
      }),
    );
  });

  it('counts application- and crash-consistent PUTs apart, as Azure does', () => {
    let state: VmGateState = EMPTY_GATE;
    for (let i = 0; i < 3; i++) {
      const b = spendPut(state, 'application', i);
      if (b.kind !== 'allowed') throw new Error('expected allowed');
      state = b.state;
    }
    expect(spendPut(state, 'application', 10).kind).toBe('exhausted');
    expect(spendPut(state, 'crash', 10).kind).toBe('allowed');
  });

  it('says when the next PUT is free: an hour after the oldest of the last three', () => {
    let state: VmGateState = EMPTY_GATE;
    for (const t of [0, 1_000, 2_000]) {
      const b = spendPut(state, 'crash', t);
      if (b.kind === 'allowed') state = b.state;
    }
    expect(spendPut(state, 'crash', 5_000)).toEqual({ kind: 'exhausted', retryAtMs: HOUR });
    expect(spendPut(state, 'crash', HOUR + 1).kind).toBe('allowed');
  });

  it('holds a VM for one holder at a time until the lease is released or expires', () => {
    const a = acquire(EMPTY_GATE, 'a', 'slot 1', 0, 1_000);
    if (a.kind !== 'granted') throw new Error('expected granted');
    expect(acquire(a.state, 'b', 'slot 2', 500, 2_000)).toMatchObject({ kind: 'busy', holder: 'a', untilMs: 1_000 });
    expect(acquire(a.state, 'a', 'slot 1', 500, 2_000).kind).toBe('granted');
    expect(acquire(a.state, 'b', 'slot 2', 1_000, 2_000).kind).toBe('granted');
    expect(acquire(release(a.state, 'a'), 'b', 'slot 2', 500, 2_000).kind).toBe('granted');
    expect(release(a.state, 'b')).toBe(a.state);
  });

  it('keeps the minimum interval from the newest point of the mode: a late slot cannot follow it within the hour', () => {
    const lateSlot = Date.parse('2026-03-02T00:59:00Z');
    expect(checkInterval('CrashConsistent', lateSlot, Date.parse('2026-03-02T01:00:00Z'))).toEqual({
      kind: 'tooSoon',
      previousMs: lateSlot,
      clearAtMs: lateSlot + HOUR,
    });
    expect(checkInterval('ApplicationConsistent', 0, 3 * HOUR).kind).toBe('clear');
    expect(checkInterval('ApplicationConsistent', 0, 3 * HOUR - 1).kind).toBe('tooSoon');
    expect(checkInterval('CrashConsistent', undefined, 0).kind).toBe('clear');
  });

  it('knows a PUT of the same name was already sent, so a create run again looks before it sends', () => {
    const first = markSend(EMPTY_GATE, 'rpo-silver-202603020800', 'crash', 0);
    expect(first.resend).toBe(false);
    const again = markSend(first.state, 'rpo-silver-202603020800', 'crash', 1_000);
    expect(again.resend).toBe(true);
    expect(markSend(again.state, 'rpo-silver-202603021000', 'crash', 2 * HOUR).resend).toBe(false);
  });

  it('counts the hour from when a PUT is sent, not from when its budget was spent before a paced wait', () => {
    let state: VmGateState = EMPTY_GATE;
    for (const [spentAt, sentAt] of [
      [0, 40_000],
      [90_000, 90_000],
      [220_000, 220_000],
    ]) {
      const spent = spendPut(state, 'crash', spentAt as number);
      if (spent.kind !== 'allowed') throw new Error('expected a PUT to be allowed');
      state = markSend(spent.state, `p${spentAt}`, 'crash', sentAt as number).state;
    }
    // An hour after the first spend, but not after the first send: still spent.
    expect(spendPut(state, 'crash', HOUR + 10_000)).toEqual({ kind: 'exhausted', retryAtMs: HOUR + 40_000 });
    expect(spendPut(state, 'crash', HOUR + 40_000).kind).toBe('allowed');
  });
});
