/**
 * TEMPORARY: loads the Durable engine (local/host/durable) while it is being written in parallel.
 * Replaced by a static import once local/host/durable/index.ts exists.
 */
import type { DurableModule } from './durableSeam';

export async function loadDurableModule(): Promise<DurableModule | undefined> {
  const specifier = './durable/index';
  try {
    return (await import(specifier)) as DurableModule;
  } catch {
    return undefined;
  }
}
