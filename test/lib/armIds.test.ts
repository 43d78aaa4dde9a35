import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ArmIdKind,
  checkArmId,
  parseArmId,
  parseDiskRestorePointId,
  parseVirtualMachineId,
  sameArmId,
  tryParseArmId,
} from '../../lib/armIds';

const sub = '00000000-1111-2222-3333-444444444444';
const rgPrefix = `/subscriptions/${sub}/resourceGroups/rg-prod/providers/Microsoft.Compute`;

const validIds: ReadonlyArray<[ArmIdKind, string, string]> = [
  ['virtualMachine', `${rgPrefix}/virtualMachines/web-01`, 'Microsoft.Compute/virtualMachines'],
  ['disk', `${rgPrefix}/disks/web-01_OsDisk_1_abc`, 'Microsoft.Compute/disks'],
  ['availabilitySet', `${rgPrefix}/availabilitySets/as.web`, 'Microsoft.Compute/availabilitySets'],
  ['virtualMachineScaleSet', `${rgPrefix}/virtualMachineScaleSets/flex1`, 'Microsoft.Compute/virtualMachineScaleSets'],
  [
    'restorePointCollection',
    `${rgPrefix}/restorePointCollections/rpo-web-01`,
    'Microsoft.Compute/restorePointCollections',
  ],
  [
    'restorePoint',
    `${rgPrefix}/restorePointCollections/rpo-web-01/restorePoints/rp-20260101T0000Z`,
    'Microsoft.Compute/restorePointCollections/restorePoints',
  ],
  [
    'diskRestorePoint',
    `${rgPrefix}/restorePointCollections/rpo-web-01/restorePoints/rp1/diskRestorePoints/web-01_OsDisk_1_abc_0d1c2e3f-0000-4000-8000-000000000000`,
    'Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints',
  ],
];

describe('parseArmId', () => {
  it.each(validIds)('parses a %s id into its typed segments', (kind, id, type) => {
    const parsed = parseArmId(id, { field: 'vmId', expect: kind });
    expect(parsed).toMatchObject({
      kind,
      subscriptionId: sub,
      resourceGroup: 'rg-prod',
      provider: 'Microsoft.Compute',
      type,
    });
    expect(parsed.id).toBe(id);
    expect(id.endsWith(`/${parsed.name}`)).toBe(true);
    expect(Object.isFrozen(parsed)).toBe(true);
  });

  it('returns the parent names of restore points and disk restore points', () => {
    const rp = parseArmId(validIds[5]![1], { field: 'rp', expect: 'restorePoint' });
    expect(rp).toMatchObject({ collectionName: 'rpo-web-01', name: 'rp-20260101T0000Z' });
    const drp = parseDiskRestorePointId(validIds[6]![1], 'drp');
    expect(drp).toMatchObject({ collectionName: 'rpo-web-01', restorePointName: 'rp1' });
  });

  it('matches keywords, provider and types case-insensitively and returns the canonical spelling', () => {
    const id = `/SUBSCRIPTIONS/${sub.toUpperCase()}/resourcegroups/RG1/PROVIDERS/microsoft.compute/VIRTUALMACHINES/Vm1`;
    const parsed = parseVirtualMachineId(id, 'vm');
    expect(parsed.id).toBe(`/subscriptions/${sub}/resourceGroups/RG1/providers/Microsoft.Compute/virtualMachines/Vm1`);
    expect(parsed.subscriptionId).toBe(sub);
    expect(parsed.resourceGroup).toBe('RG1');
    expect(parsed.name).toBe('Vm1');
  });

  it('recognises any kind when no kind is expected', () => {
    for (const [kind, id] of validIds) expect(parseArmId(id, { field: 'x' }).kind).toBe(kind);
  });

  const rejected: ReadonlyArray<[string, unknown, RegExp]> = [
    ['a number', 42, /got number/],
    ['null', null, /got null/],
    ['an empty string', '', /empty/],
    ['path traversal', `${rgPrefix}/virtualMachines/../disks/d1`, /"\.\."|type/],
    ['a ".." name', `${rgPrefix}/virtualMachines/..`, /"\.\."/],
    ['an api-version injection', `${rgPrefix}/virtualMachines/vm1?api-version=2020-01-01`, /query strings/],
    ['a fragment', `${rgPrefix}/virtualMachines/vm1#x`, /fragments/],
    ['an encoded slash', `${rgPrefix}/virtualMachines/vm1%2Fdisks`, /percent-encoding/],
    ['a space', `${rgPrefix}/virtualMachines/vm 1`, /whitespace/],
    ['a newline', `${rgPrefix}/virtualMachines/vm1\n`, /whitespace/],
    ['a control character', `${rgPrefix}/virtualMachines/vm\u00011`, /control/],
    ['a backslash', `${rgPrefix}\\virtualMachines\\vm1`, /backslash/],
    ['a Unicode look-alike provider', rgPrefix.replace('Microsoft', 'Micrоsoft') + '/virtualMachines/vm1', /ASCII/],
    ['a Unicode look-alike name', `${rgPrefix}/virtualMachines/vm\u0430`, /ASCII/],
    ['a relative id', `subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm`, /start/],
    [
      'a subscription that is not a GUID',
      `/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm`,
      /GUID/,
    ],
    [
      'a missing resource group',
      `/subscriptions/${sub}/providers/Microsoft.Compute/virtualMachines/vm`,
      /resourceGroups/,
    ],
    [
      'an over-long resource group',
      `/subscriptions/${sub}/resourceGroups/${'r'.repeat(91)}/providers/Microsoft.Compute/virtualMachines/vm`,
      /resource group name/,
    ],
    [
      'a resource group ending in "."',
      `/subscriptions/${sub}/resourceGroups/rg./providers/Microsoft.Compute/virtualMachines/vm`,
      /resource group name/,
    ],
    [
      'another provider',
      `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Network/virtualMachines/vm`,
      /provider must be/,
    ],
    ['an unknown type', `${rgPrefix}/snapshots/s1`, /type "snapshots"/],
    ['an extra trailing segment', `${rgPrefix}/virtualMachines/vm1/extensions`, /segments/],
    ['a trailing slash', `${rgPrefix}/virtualMachines/vm1/`, /empty path segments/],
    ['a double slash', `${rgPrefix}//virtualMachines/vm1`, /empty path segments/],
    ['a VM name over 64 characters', `${rgPrefix}/virtualMachines/${'v'.repeat(65)}`, /virtualMachines name/],
    ['a VM name ending in "-"', `${rgPrefix}/virtualMachines/vm-`, /virtualMachines name/],
    ['a VM name with "$"', `${rgPrefix}/virtualMachines/vm$1`, /virtualMachines name/],
    ['a disk name with "."', `${rgPrefix}/disks/d.1`, /disks name/],
    ['a disk name over 80 characters', `${rgPrefix}/disks/${'d'.repeat(81)}`, /disks name/],
    ['an over-long id', `${rgPrefix}/restorePointCollections/${'c'.repeat(1100)}`, /longer than 1024/],
  ];

  it.each(rejected)('rejects %s with an error naming the field and the rule', (_case, value, rule) => {
    expect(() => parseArmId(value, { field: 'policy.vms[3]' })).toThrow(TypeError);
    expect(() => parseArmId(value, { field: 'policy.vms[3]' })).toThrow(/^policy\.vms\[3\] must be an ARM resource id/);
    expect(() => parseArmId(value, { field: 'policy.vms[3]' })).toThrow(rule);
  });

  it('rejects a valid id of another kind than the one expected', () => {
    expect(() => parseArmId(validIds[1]![1], { field: 'vmId', expect: 'virtualMachine' })).toThrow(
      /^vmId must be an ARM resource id of type Microsoft\.Compute\/virtualMachines: the type "disks"/,
    );
    expect(() => parseArmId(validIds[3]![1], { field: 'vmId', expect: ['virtualMachine', 'availabilitySet'] })).toThrow(
      /virtualMachines or Microsoft\.Compute\/availabilitySets/,
    );
  });

  it('validates parent names with the rule of their own type', () => {
    const badCollection = `${rgPrefix}/restorePointCollections/-bad/restorePoints/rp1`;
    expect(() => parseArmId(badCollection, { field: 'rp' })).toThrow(/restorePointCollections name "-bad"/);
  });

  it('never accepts an id that contains characters outside the allow-list (property)', () => {
    const forbidden = fc.constantFrom('?', '#', '%', ' ', '\t', '\\', '..', '\u0000', 'é', '/');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), forbidden, (at, bad) => {
        const name = 'vm12345'.slice(0, at) + bad + 'vm12345'.slice(at);
        expect(tryParseArmId(`${rgPrefix}/virtualMachines/${name}`)).toBeUndefined();
      }),
    );
  });

  it('round-trips every id it accepts through its canonical form (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}[A-Za-z0-9]$/);
    fc.assert(
      fc.property(fc.uuid(), name, name, fc.boolean(), (subscription, rg, vm, upper) => {
        const raw = `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${vm}`;
        const parsed = parseVirtualMachineId(upper ? raw.toUpperCase() : raw, 'vm');
        expect(parseVirtualMachineId(parsed.id, 'vm')).toEqual(parsed);
        expect(sameArmId(parsed.id, raw)).toBe(true);
      }),
    );
  });
});

describe('checkArmId', () => {
  it('reports the broken rule by name and a message that reads after the field name', () => {
    expect(checkArmId(`${rgPrefix}/virtualMachines/vm1?x=1`, 'virtualMachine')).toEqual({
      ok: false,
      rule: 'characters',
      message:
        'must be an ARM resource id of type Microsoft.Compute/virtualMachines: query strings ("?") and fragments ("#") are not allowed',
    });
    expect(checkArmId(`${rgPrefix}/disks/d1`, 'virtualMachine')).toMatchObject({ ok: false, rule: 'type' });
    expect(checkArmId(validIds[0]![1].replace(sub, 'x'), 'virtualMachine')).toMatchObject({ rule: 'subscription' });
    expect(checkArmId(`${rgPrefix}/disks/d.1`)).toMatchObject({ rule: 'name' });
  });

  it('returns the parsed id when valid', () => {
    const result = checkArmId(validIds[0]![1], 'virtualMachine');
    expect(result.ok && result.value.name).toBe('web-01');
  });
});

describe('tryParseArmId', () => {
  it('answers undefined instead of throwing', () => {
    expect(tryParseArmId('/nope')).toBeUndefined();
    expect(tryParseArmId(validIds[0]![1], { expect: 'virtualMachine' })?.name).toBe('web-01');
  });
});

describe('sameArmId', () => {
  it('compares ids case-insensitively', () => {
    expect(sameArmId(`${rgPrefix}/disks/D1`, `${rgPrefix.toUpperCase()}/disks/d1`)).toBe(true);
  });

  it('ignores a trailing slash', () => {
    expect(sameArmId(`${rgPrefix}/disks/d1/`, `${rgPrefix}/disks/d1`)).toBe(true);
  });

  it('tells different resources apart', () => {
    expect(sameArmId(`${rgPrefix}/disks/d1`, `${rgPrefix}/disks/d10`)).toBe(false);
  });

  it('is false when either side is missing or empty', () => {
    expect(sameArmId(undefined, `${rgPrefix}/disks/d1`)).toBe(false);
    expect(sameArmId(null, null)).toBe(false);
    expect(sameArmId('', '')).toBe(false);
  });
});
