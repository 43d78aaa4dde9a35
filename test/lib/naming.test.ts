import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  copyCollectionName,
  copyInstanceId,
  disasterRecoveryInstanceId,
  isRpoCollection,
  isRpoRestorePoint,
  onboardingInstanceId,
  onDemandBackupInstanceId,
  onDemandRestorePointName,
  parseRestorePointName,
  policyRestorePointName,
  policyRunInstanceId,
  restoreInstanceId,
  rpoCollectionTags,
  slotIso,
  sourceCollectionName,
  vmBackupInstanceId,
  vmSetBackupInstanceId,
} from '../../lib/naming';
import { ValidationError } from '../../lib/validation';

const SUB = '00000000-0000-0000-0000-000000000001';
const vmId = (rg: string, name: string, sub = SUB): string =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

/** Azure collection name rule: 1-80 chars, alphanumerics, `_ . -`, starts alphanumeric, ends alphanumeric or `_`. */
const AZURE_COLLECTION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/;
// eslint-disable-next-line no-control-regex
const DURABLE_FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

const policyName = fc.stringMatching(/^[a-z0-9-]{1,40}$/).filter((p) => p !== 'ondemand' && !p.startsWith('ondemand-'));
const slot = fc
  .integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(9999, 11, 31, 23, 59) / 60_000 })
  .map((minutes) => minutes * 60_000);
const runId = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/);
const vmName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}[A-Za-z0-9]$/);
const rgName = fc.stringMatching(/^[-\w.()]{1,90}$/);

describe('restore point names', () => {
  it('names a policy point rpo-{policy}-{yyyyMMddHHmm} with the slot in UTC', () => {
    expect(policyRestorePointName('daily', '2026-11-22T18:05:00+01:00')).toBe('rpo-daily-202611221705');
    expect(policyRestorePointName('a', Date.UTC(2026, 0, 2, 3, 4))).toBe('rpo-a-202601020304');
  });

  it('names an on-demand point rpo-ondemand-{id}', () => {
    expect(onDemandRestorePointName('3f1c0a9e-1b2c-4d5e-8f90-0123456789ab')).toBe(
      'rpo-ondemand-3f1c0a9e-1b2c-4d5e-8f90-0123456789ab',
    );
  });

  it('parses every policy name and slot back, and every on-demand id', () => {
    fc.assert(
      fc.property(policyName, slot, (policy, ms) => {
        const name = policyRestorePointName(policy, ms);
        expect(name.length).toBeLessThanOrEqual(57);
        expect(parseRestorePointName(name)).toEqual({ kind: 'policy', policy, slot: new Date(ms) });
      }),
    );
    fc.assert(
      fc.property(runId, (id) => {
        expect(parseRestorePointName(onDemandRestorePointName(id))).toEqual({ kind: 'ondemand', id });
      }),
    );
  });

  it('treats names RPO never gives as foreign', () => {
    for (const name of [
      'manual-point',
      'rpo-',
      'rpo-daily',
      'rpo-daily-2026112218',
      'rpo-daily-202613011200', // month 13
      'rpo-daily-202602301200', // 30 February
      'RPO-daily-202611221800', // RPO writes lower case only
      'rpo-Daily-202611221800',
      'rpo--202611221800', // empty policy
      'rpo-ondemand-',
      'rpo-ondemand-Bad',
      'rpo-ondemand-x-',
      'rpo-ondemand-a_b',
    ]) {
      expect(parseRestorePointName(name), name).toBeUndefined();
    }
  });

  it('reads rpo-ondemand-… as on-demand even when it ends in 12 digits', () => {
    expect(parseRestorePointName('rpo-ondemand-202611221800')).toEqual({ kind: 'ondemand', id: '202611221800' });
  });

  it('refuses bad inputs with an error naming the field and the rule', () => {
    expect(() => policyRestorePointName('Daily', 0)).toThrow(/policy: must match \[a-z0-9-\]\{1,40\}.*\[policy-name\]/);
    expect(() => policyRestorePointName('ondemand', 0)).toThrow(/policy: .*reserved.*\[reserved-policy-name\]/);
    expect(() => policyRestorePointName('daily', Date.UTC(2026, 0, 1, 0, 0, 30))).toThrow(/slot: .*\[whole-minute\]/);
    expect(() => policyRestorePointName('daily', 'yesterday')).toThrow(/slot: must be a valid date.*\[date\]/);
    expect(() => onDemandRestorePointName('-x')).toThrow(ValidationError);
    expect(() => onDemandRestorePointName('a'.repeat(51))).toThrow(/id: .*\[run-id\]/);
  });
});

describe('restore point collection names', () => {
  it('are valid Azure names, deterministic and case-insensitive in the VM id', () => {
    fc.assert(
      fc.property(
        rgName,
        vmName,
        fc.constantFrom('westeurope', 'West Europe', 'australiasoutheast'),
        (rg, name, region) => {
          const id = vmId(rg, name);
          const source = sourceCollectionName(id);
          const copy = copyCollectionName(id, region);
          expect(source).toMatch(AZURE_COLLECTION_NAME);
          expect(copy).toMatch(AZURE_COLLECTION_NAME);
          expect(sourceCollectionName(id.toUpperCase())).toBe(source);
          expect(copyCollectionName(id.toLowerCase(), region.toUpperCase())).toBe(copy);
          expect(copy).not.toBe(source);
        },
      ),
    );
  });

  it('differ for VMs of the same name in different resource groups or subscriptions', () => {
    const ids = [
      vmId('rg-a', 'web1'),
      vmId('rg-b', 'web1'),
      vmId('rg-a', 'web1', '00000000-0000-0000-0000-000000000002'),
    ];
    expect(new Set(ids.map((id) => copyCollectionName(id, 'northeurope'))).size).toBe(3);
    expect(new Set(ids.map((id) => sourceCollectionName(id))).size).toBe(3);
    expect(copyCollectionName(ids[0] as string, 'northeurope')).toMatch(/^rpo-web1-to-northeurope-[0-9a-f]{12}$/);
  });

  it('differ for one VM copied into two regions', () => {
    const id = vmId('rg', 'db');
    expect(copyCollectionName(id, 'northeurope')).not.toBe(copyCollectionName(id, 'swedencentral'));
  });

  it('refuse an id that is not a VM id', () => {
    expect(() =>
      sourceCollectionName('/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/d'),
    ).toThrow(/vmId: .*\[vm-id\]/);
    expect(() => copyCollectionName(vmId('rg', 'vm'), 'west/europe')).toThrow(/targetRegion: .*\[region\]/);
  });
});

describe('RPO ownership', () => {
  const collection = {
    id: `${vmId('rg', 'vm1').replace(/virtualMachines\/vm1$/, 'restorePointCollections/rpo-vm1-abc')}`,
    tags: rpoCollectionTags(vmId('rg', 'vm1'), 'source'),
  };

  it('tags collections rpo-managed, with the role and the lower-cased source VM id', () => {
    expect(rpoCollectionTags(vmId('RG', 'VM1'), 'copy')).toEqual({
      'rpo-managed': 'true',
      'rpo-role': 'copy',
      'rpo-source-vm': vmId('rg', 'vm1').toLowerCase(),
    });
    const longId = vmId('r'.repeat(90), 'v'.repeat(64));
    expect(rpoCollectionTags(longId, 'source')['rpo-source-vm']).toBeUndefined();
  });

  it('needs both an RPO name and an RPO-tagged collection', () => {
    const name = 'rpo-daily-202611221800';
    expect(isRpoRestorePoint({ name, id: `${collection.id}/restorePoints/${name}` }, collection)).toBe(true);
    expect(isRpoRestorePoint({ name: 'nightly' }, collection)).toBe(false);
    expect(isRpoRestorePoint({ name }, { id: collection.id, tags: { owner: 'ops' } })).toBe(false);
    expect(isRpoRestorePoint({ name }, { id: collection.id })).toBe(false);
    expect(isRpoRestorePoint({ name }, undefined)).toBe(false);
  });

  it('refuses a point whose id is not under the collection', () => {
    const name = 'rpo-daily-202611221800';
    expect(isRpoRestorePoint({ name, id: `/elsewhere/restorePoints/${name}` }, collection)).toBe(false);
  });

  it('compares the tag name case-insensitively, like ARM', () => {
    expect(isRpoCollection({ tags: { 'RPO-Managed': 'True' } })).toBe(true);
    expect(isRpoCollection({ tags: { 'rpo-managed': 'false' } })).toBe(false);
    expect(isRpoCollection({ tags: null })).toBe(false);
  });
});

describe('orchestration instance ids', () => {
  it('gives policy runs the fixed policy-run:{policyName}:{slotIso} id', () => {
    expect(policyRunInstanceId('daily', Date.UTC(2026, 10, 22, 18))).toBe('policy-run:daily:2026-11-22T18:00:00.000Z');
    expect(slotIso('2026-11-22T19:00:00+01:00')).toBe('2026-11-22T18:00:00.000Z');
  });

  it('keeps every id within 100 chars and free of characters Durable forbids', () => {
    fc.assert(
      fc.property(policyName, slot, runId, rgName, vmName, (policy, ms, id, rg, name) => {
        const vm = vmId(rg, name);
        const point = policyRestorePointName(policy, ms);
        const onDemandPoint = onDemandRestorePointName(id);
        const ids = [
          policyRunInstanceId(policy, ms),
          vmBackupInstanceId(vm, point),
          vmBackupInstanceId(vm, onDemandPoint),
          vmSetBackupInstanceId(vm.replace('virtualMachines', 'availabilitySets'), onDemandPoint),
          copyInstanceId({
            sourceRestorePointId: `${vm}/x/restorePointCollections/c/restorePoints/${onDemandPoint}`,
            targetRegion: 'germanywestcentral',
            targetResourceGroup: rg,
          }),
          onDemandBackupInstanceId(id),
          restoreInstanceId(id),
          disasterRecoveryInstanceId(id),
          disasterRecoveryInstanceId(`${name}/#?${id}`, 'source'),
          onboardingInstanceId(vm),
        ];
        for (const instance of ids) {
          expect(instance.length).toBeLessThanOrEqual(100);
          expect(instance).not.toMatch(DURABLE_FORBIDDEN);
        }
      }),
    );
  });

  it('gives the same VM and point name the same backup id, whatever the case of the VM id', () => {
    const point = 'rpo-daily-202611221800';
    expect(vmBackupInstanceId(vmId('RG', 'Vm1'), point)).toBe(vmBackupInstanceId(vmId('rg', 'vm1'), point));
    expect(vmBackupInstanceId(vmId('rg', 'vm1'), point)).toMatch(/^vm-backup:rpo-daily-202611221800:[0-9a-f]{12}$/);
    expect(vmBackupInstanceId(vmId('rg', 'vm1'), point)).not.toBe(vmBackupInstanceId(vmId('rg2', 'vm1'), point));
  });

  it('keeps hashed and plain disaster recovery ids apart', () => {
    expect(disasterRecoveryInstanceId('evt-1')).toBe('disaster-recovery:evt-1');
    expect(disasterRecoveryInstanceId('Evt 1')).toMatch(/^disaster-recovery:h:[0-9a-f]{16}$/);
    expect(disasterRecoveryInstanceId('evt-1', '/topics/x')).not.toBe(disasterRecoveryInstanceId('evt-1', '/topics/y'));
  });

  it('refuses a foreign point name in a backup id', () => {
    expect(() => vmBackupInstanceId(vmId('rg', 'vm'), 'nightly')).toThrow(
      /restorePointName: .*\[rpo-restore-point-name\]/,
    );
  });
});
