import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FLEET, startStack, type Stack } from '../../local/stack';
import { rpoCollectionTags, sourceCollectionName } from '../../lib/naming';
import { computeClientFor } from '../helpers/computeClient';
import {
  addFault,
  DEMO_VMS,
  driveUntil,
  HOUR,
  listPoints,
  policyBody,
  PROD,
  putPolicy,
  requestLog,
  type ListedPoint,
} from '../helpers/e2e';

/**
 * Seven hourly slots of a policy that keeps 3 points, over two VMs: one healthy, with a restore point of its
 * own made by someone else in RPO's collection; one whose every create Azure refuses. Retention keeps the
 * newest 3 of RPO's points and never the foreign one; compliance says Breached for the failing VM with
 * Azure's code, and Unprotected for a VM in the scope that no policy selects. A third VM's collection, with
 * RPO's name, was made by someone else without RPO's tag: RPO writes nothing there and says why. (Age-based retention, the
 * newest-good-point rule and the 500 cap hold for all inputs in test/lib/retention.test.ts.)
 */

const HEALTHY = DEMO_VMS['vm-api-01'] as string;
const FAILING = DEMO_VMS['vm-api-02'] as string;
/** Its collection, with RPO's name, was made by someone else, without RPO's tag. */
const UNMANAGED = DEMO_VMS['vm-api-03'] as string;
const START = Date.parse('2026-03-02T00:30:00Z');
const LAST_SLOT_TICK = Date.parse('2026-03-02T06:00:00Z');

let stack: Stack;
let points: ListedPoint[];
beforeAll(async () => {
  stack = await startStack({ fleetFile: DEMO_FLEET, start: new Date(START).toISOString() });
  await putPolicy(
    stack,
    policyBody('keep3', {
      scope: { subscriptionIds: [PROD] },
      selector: { vmIds: [HEALTHY, FAILING, UNMANAGED] },
      schedule: { everyHours: 1 },
      retention: { count: 3 },
    }),
  );
  await addFault(stack, {
    method: 'PUT',
    pathPattern: `/restorePointCollections/${sourceCollectionName(FAILING)}/restorePoints/`,
    status: 400,
    code: 'OperationNotAllowed',
    message: 'the VM is not in a state that allows restore points',
    times: 1_000,
  });
  // Before RPO's first cycle: RPO's collection for the VM (as RPO makes it, tagged) holding someone else's point.
  const compute = computeClientFor(stack.emulator, PROD);
  await compute.restorePointCollections.createOrUpdate('rg-shop-weu', sourceCollectionName(HEALTHY), {
    location: 'westeurope',
    source: { id: HEALTHY },
    tags: rpoCollectionTags(HEALTHY, 'source'),
  });
  await compute.restorePoints.beginCreate('rg-shop-weu', sourceCollectionName(HEALTHY), 'manual-before-upgrade', {
    consistencyMode: 'CrashConsistent',
  });
  await compute.restorePointCollections.createOrUpdate('rg-shop-weu', sourceCollectionName(UNMANAGED), {
    location: 'westeurope',
    source: { id: UNMANAGED },
  });
  await driveUntil(stack, LAST_SLOT_TICK);
  points = await listPoints(stack, PROD);
}, 600_000);
afterAll(async () => {
  await stack.stop();
});

describe('retention and compliance over six cycles', () => {
  it("never writes into a collection with RPO's name but without its tag: the VM is skipped, saying why", async () => {
    expect(points.some((p) => p.sourceVmId === UNMANAGED)).toBe(false);
    const log = await requestLog(stack);
    // Only the test's own PUT of the collection: RPO sent nothing there.
    const collection = `/restorepointcollections/${sourceCollectionName(UNMANAGED)}`.toLowerCase();
    const writes = log.filter((e) => e.method !== 'GET' && e.path.toLowerCase().includes(collection));
    expect(
      writes.map((e) => `${e.method} ${e.path.toLowerCase().endsWith(collection) ? 'collection' : 'inside'}`),
    ).toEqual(['PUT collection']);
    const response = await stack.host.invokeHttp('GET', '/api/compliance');
    const entries = response.json<{ value: { vmId: string; why?: { code: string } }[] }>().value;
    const entry = entries.find((e) => e.vmId.toLowerCase() === UNMANAGED.toLowerCase());
    expect(entry?.why?.code).toBe('collectionNotManaged');
  });

  it('keeps the newest 3 of RPO points of the VM and deletes the older ones', () => {
    const own = points
      .filter((p) => p.sourceVmId === HEALTHY && p.name.startsWith('rpo-keep3-'))
      .map((p) => p.name)
      .sort();
    expect(own).toEqual(['rpo-keep3-202603020400', 'rpo-keep3-202603020500', 'rpo-keep3-202603020600']);
  });

  it('never deletes a restore point that RPO did not create', () => {
    expect(points.some((p) => p.sourceVmId === HEALTHY && p.name === 'manual-before-upgrade')).toBe(true);
  });

  it('reports the VM whose creates keep failing Breached with Azure code, the healthy one Protected, an unselected one Unprotected', async () => {
    const response = await stack.host.invokeHttp('GET', '/api/compliance');
    expect(response.status, response.body).toBe(200);
    const entries = response.json<{ value: { vmId: string; state: string; why?: { code: string } }[] }>().value;
    const of = (vm: string) => entries.find((e) => e.vmId.toLowerCase() === vm.toLowerCase());
    expect(points.some((p) => p.sourceVmId === FAILING)).toBe(false);
    expect(of(FAILING)).toMatchObject({ state: 'Breached', why: { code: 'OperationNotAllowed' } });
    expect(of(HEALTHY)?.state).toBe('Protected');
    expect(of(DEMO_VMS['vm-web-01'] as string)?.state).toBe('Unprotected');
    expect(stack.clock.now()).toBeLessThan(LAST_SLOT_TICK + 2 * HOUR);
  });
});
