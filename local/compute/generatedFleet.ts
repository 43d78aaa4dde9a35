/**
 * Generated fleets for scale runs (bench/fleet.ts): N uniform VMs in one subscription, spread over resource
 * groups, each with a managed OS disk and optional data disks, all carrying the same selector tags. The
 * result is an ordinary fleet (the fleet file format, validated by parseFleet), applied through the
 * emulator's ARM API by applyFleet like any fleet file.
 */
import { parseFleet, type Fleet } from './fleet';

export interface GeneratedFleetOptions {
  /** Number of VMs (≥ 1). */
  readonly vms: number;
  /** Default `5eed0000-0000-4000-8000-000000000001`. */
  readonly subscriptionId?: string;
  /** Default `westeurope`. */
  readonly location?: string;
  /** VMs per resource group (default 500): resource groups `rg-fleet-000`, `rg-fleet-001`, ... */
  readonly vmsPerResourceGroup?: number;
  /** Data disks per VM (default 1, at most 8), Premium_LRS, no host caching. */
  readonly dataDisks?: number;
  /** Tags on every VM (default `{ "rpo-fleet": "bench" }`). */
  readonly tags?: Readonly<Record<string, string>>;
  /** VM name prefix (default `vm`): `vm-00000`, `vm-00001`, ... */
  readonly prefix?: string;
}

export const GENERATED_FLEET_DEFAULTS = Object.freeze({
  subscriptionId: '5eed0000-0000-4000-8000-000000000001',
  location: 'westeurope',
  vmsPerResourceGroup: 500,
  dataDisks: 1,
  tags: Object.freeze({ 'rpo-fleet': 'bench' }),
  prefix: 'vm',
});

const MAX_DATA_DISKS = 8;

function wholeNumber(value: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`generated fleet: ${what} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** The fleet, deterministic for the same options (names, sizes and order). */
export function generateFleet(options: GeneratedFleetOptions): Fleet {
  const count = wholeNumber(options.vms, 'vms', 1);
  const perGroup = wholeNumber(
    options.vmsPerResourceGroup ?? GENERATED_FLEET_DEFAULTS.vmsPerResourceGroup,
    'vmsPerResourceGroup',
    1,
  );
  const dataDisks = wholeNumber(
    options.dataDisks ?? GENERATED_FLEET_DEFAULTS.dataDisks,
    'dataDisks',
    0,
    MAX_DATA_DISKS,
  );
  const location = options.location ?? GENERATED_FLEET_DEFAULTS.location;
  const tags = { ...(options.tags ?? GENERATED_FLEET_DEFAULTS.tags) };
  const prefix = options.prefix ?? GENERATED_FLEET_DEFAULTS.prefix;
  const digits = Math.max(5, String(count - 1).length);
  const groupDigits = Math.max(3, String(Math.ceil(count / perGroup) - 1).length);
  const resourceGroups = [];
  for (let first = 0, group = 0; first < count; first += perGroup, group++) {
    const virtualMachines = [];
    for (let i = first; i < Math.min(count, first + perGroup); i++) {
      const name = `${prefix}-${String(i).padStart(digits, '0')}`;
      virtualMachines.push({
        name,
        size: 'Standard_D2s_v5',
        osType: 'Linux' as const,
        osDisk: { disk: { name: `${name}-os`, sku: 'Premium_LRS' as const, sizeGB: 64 }, caching: 'ReadOnly' as const },
        dataDisks: Array.from({ length: dataDisks }, (_, lun) => ({
          lun,
          disk: { name: `${name}-data${lun}`, sku: 'Premium_LRS' as const, sizeGB: 128 },
          caching: 'None' as const,
        })),
        tags: { ...tags },
      });
    }
    resourceGroups.push({
      name: `rg-fleet-${String(group).padStart(groupDigits, '0')}`,
      location,
      virtualMachines,
    });
  }
  return parseFleet(
    {
      description: `Generated fleet: ${count} VMs in ${resourceGroups.length} resource groups, ${dataDisks} data disk(s) each`,
      subscriptions: [{ id: options.subscriptionId ?? GENERATED_FLEET_DEFAULTS.subscriptionId, resourceGroups }],
    },
    'generated fleet',
  );
}
