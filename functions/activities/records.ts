import * as df from 'durable-functions';
import { appStores } from '../../lib/azure/stores';
import { checkOutcome } from '../../lib/tables/outcomeStore';
import { ACTIVITIES, type RecordRunInput, type WriteOutcomesInput } from '../../orchestrations/contracts';

/** Writes to RpoOutcomes and RpoRuns: upserts on deterministic keys, so a retried activity writes the same rows. */

async function writeOutcomes(input: WriteOutcomesInput): Promise<number> {
  const outcomes = input.outcomes.map(checkOutcome);
  const stores = await appStores();
  await stores.outcomes.writeOutcomes(outcomes);
  return outcomes.length;
}

async function recordRun(input: RecordRunInput): Promise<void> {
  const stores = await appStores();
  await stores.runs.upsert(input.run);
}

df.app.activity(ACTIVITIES.writeOutcomes, { handler: writeOutcomes });
df.app.activity(ACTIVITIES.recordRun, { handler: recordRun });
