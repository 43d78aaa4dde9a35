import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { startAzurite } from '../local/azurite';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the Azurite started for this test run (in memory, loopback, free ports). */
    azuriteConnectionString: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzurite({ inMemory: true });
  project.provide('azuriteConnectionString', azurite.connectionString);
  return () => azurite.stop();
}
