import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  idKey,
  isValidDiskName,
  isValidResourceName,
  parseId,
  resourceId,
  restorePointId,
} from '../../../local/compute/armIds';

const name = fc.stringMatching(/^\w([\w.-]{0,20}\w)?$/);

describe('armIds', () => {
  it('parses what it builds, for any names', () => {
    fc.assert(
      fc.property(fc.uuid(), name, name, (subscriptionId, resourceGroup, vm) => {
        const id = resourceId({ subscriptionId, resourceGroup }, 'virtualMachines', vm);
        expect(parseId(id)).toEqual({ subscriptionId, resourceGroup, type: 'virtualMachines', name: vm, children: [] });
        expect(parseId(id.toUpperCase())?.type).toBe('virtualMachines');
      }),
    );
  });

  it('keys ids case-insensitively and without a trailing slash', () => {
    const id = restorePointId(
      '/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/restorePointCollections/C',
      'RP',
    );
    expect(idKey(id)).toBe(idKey(`${id.toLowerCase()}/`));
    expect(parseId(id)?.children).toEqual([['restorePoints', 'RP']]);
  });

  it('rejects ids of other providers or shapes', () => {
    expect(
      parseId('/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n'),
    ).toBeUndefined();
    expect(parseId('/not/an/id')).toBeUndefined();
  });

  it('applies ARM’s and DiskRP’s name rules', () => {
    expect(isValidResourceName('rp-2026.01_a', 80)).toBe(true);
    expect(isValidResourceName('ends-', 80)).toBe(false);
    expect(isValidResourceName('a'.repeat(81), 80)).toBe(false);
    expect(isValidDiskName('disk_1-a')).toBe(true);
    expect(isValidDiskName('disk.1')).toBe(false);
  });
});
