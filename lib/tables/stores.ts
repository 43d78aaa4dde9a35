import { OutcomeStore } from './outcomeStore';
import { type PolicyDocument, PolicyStore } from './policyStore';
import { RunStore } from './runStore';
import { StateStore } from './stateStore';
import { TargetStore } from './targetStore';
import { openRpoTables, type TableRole, type TableStorageSettings } from './tableClients';

export interface RpoStores<P extends PolicyDocument> {
  readonly policies: PolicyStore<P>;
  readonly outcomes: OutcomeStore;
  readonly runs: RunStore;
  readonly state: StateStore;
  /** Batches of resolved targets of a run (their shape belongs to the orchestrations: orchestrations/contracts.ts). */
  readonly targets: TargetStore<unknown>;
}

/** RPO's stores over one storage account, tables created if missing. */
export async function openRpoStores<P extends PolicyDocument = PolicyDocument>(
  settings: TableStorageSettings,
  options: { tableNames?: Partial<Record<TableRole, string>>; now?: () => Date } = {},
): Promise<RpoStores<P>> {
  const tables = await openRpoTables(settings, options.tableNames);
  return {
    policies: new PolicyStore<P>(tables.policies, options.now),
    outcomes: new OutcomeStore(tables.outcomes),
    runs: new RunStore(tables.runs),
    state: new StateStore(tables.state),
    targets: new TargetStore<unknown>(tables.targets),
  };
}
