/**
 * The child process of bench/fleet/remoteEmulator.ts: the Compute emulator on a manual clock that only the
 * parent moves. It answers the parent's calls (move the clock, drain the request log, count restore points).
 */
import { ManualClock } from '../../local/clock';
import { startComputeEmulator } from '../../local/compute/server';
import type { EmulatorCall, EmulatorReply, EmulatorStart, PointCounts } from './remoteEmulator';

function send(message: EmulatorReply): void {
  process.send?.(message);
}

async function main(start: EmulatorStart): Promise<void> {
  const clock = new ManualClock(start.startMs);
  const emulator = await startComputeEmulator({
    clock,
    certDir: start.certDir,
    quiet: true,
    simulation: start.simulation,
  });
  const core = emulator.core;
  const answer = async (call: EmulatorCall): Promise<unknown> => {
    switch (call.op) {
      case 'set':
        await clock.set(Math.max(clock.now(), call.ms));
        return { nowMs: clock.now() };
      case 'drain': {
        const entries = core.requests();
        core.clearRequests();
        return { entries };
      }
      case 'points': {
        const perVm = new Map<string, number>();
        let succeeded = 0;
        let created = 0;
        for (const point of core.store.restorePoints.values()) {
          if (point.createdMs < call.sinceMs || point.isCopy) continue;
          created++;
          if (point.provisioningState === 'Succeeded') succeeded++;
          perVm.set(point.vmKey, (perVm.get(point.vmKey) ?? 0) + 1);
        }
        const counts: PointCounts = {
          created,
          vms: perVm.size,
          duplicates: [...perVm.values()].filter((n) => n > 1).length,
          succeeded,
        };
        return counts;
      }
      case 'memory':
        return { maxRssMb: process.resourceUsage().maxRSS / 1024 };
    }
  };
  process.on('message', (message: { id: number } & EmulatorCall) => {
    answer(message).then(
      (value) => send({ id: message.id, ok: true, value }),
      (error: unknown) => send({ id: message.id, ok: false, error: String(error) }),
    );
  });
  process.on('SIGTERM', () => {
    void emulator.stop().finally(() => process.exit(0));
  });
  send({ ready: { url: emulator.url, caPem: emulator.caPem } });
}

process.once('message', (start: EmulatorStart) => {
  main(start).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
