/** Reads what the fixture app's functions and hooks recorded (test/fixtures/app/lib/state.js). */
import { createRequire } from 'node:module';
import path from 'node:path';

export const FIXTURE_APP = path.resolve(__dirname, '../../fixtures/app');

export interface FixtureState {
  hooks: string[];
  timerRuns: {
    name: string;
    isPastDue: boolean;
    scheduleStatus?: { last: string; next: string; lastUpdated: string };
    retryCount?: number;
  }[];
  events: Record<string, unknown>[];
  tickGate: Promise<void> | undefined;
  flakyTickFailures: number;
}

/** The state module the running host loaded (same require cache: the app is loaded with require()). */
export function fixtureState(): FixtureState {
  return createRequire(__filename)(path.join(FIXTURE_APP, 'lib/state.js')) as FixtureState;
}
