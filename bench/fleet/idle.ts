import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { setTimeout as delay } from 'node:timers/promises';
import type { HostStack } from '../../local/stack';

/** Idle detection: the stack is idle when nothing of it runs and no HTTP request is open. */
export class StackActivity {
  busy = 0;
  progress = 0;
  readonly byName = new Map<string, { count: number; ms: number }>();
  private readonly channels: [string, (message: unknown) => void][];

  constructor() {
    const open = (): void => {
      this.busy++;
      this.progress++;
    };
    const close = (): void => {
      this.busy = Math.max(0, this.busy - 1);
      this.progress++;
    };
    this.channels = [
      ['http.client.request.start', open],
      ['http.client.response.finish', close],
      ['http.client.request.error', close],
      ['http.server.request.start', open],
      ['http.server.response.finish', close],
    ];
    for (const [name, listener] of this.channels) subscribe(name, listener);
  }

  /** Counts the host's activity and orchestrator invocations (the engine calls the app through this object). */
  watch(stack: HostStack): void {
    const invoker = stack.host.app.invoker;
    const activity = invoker.invokeActivity.bind(invoker);
    const orchestrator = invoker.invokeOrchestrator.bind(invoker);
    const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      this.busy++;
      this.progress++;
      const started = performance.now();
      try {
        return await run();
      } finally {
        this.busy--;
        this.progress++;
        const entry = this.byName.get(name) ?? { count: 0, ms: 0 };
        entry.count++;
        entry.ms += performance.now() - started;
        this.byName.set(name, entry);
      }
    };
    invoker.invokeActivity = (name, input) => timed(name, () => activity(name, input));
    invoker.invokeOrchestrator = (name, trigger) => timed(`(orchestrator) ${name}`, () => orchestrator(name, trigger));
  }

  /** Resolves when nothing ran for two checks in a row; false if that took longer than `patienceMs`. */
  async idle(patienceMs: number): Promise<boolean> {
    const until = performance.now() + patienceMs;
    let quiet = 0;
    let seen = this.progress;
    while (performance.now() < until) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await delay(1);
      if (this.busy === 0 && this.progress === seen) {
        if (++quiet >= 2) return true;
      } else {
        quiet = 0;
        seen = this.progress;
      }
    }
    return false;
  }

  close(): void {
    for (const [name, listener] of this.channels) unsubscribe(name, listener);
  }
}
