/**
 * Fleet files (`local/fleets/*.json`): the VMs, disks and VM sets a local run starts with. A fleet is
 * applied THROUGH the emulator's ARM API — the same PUTs an operator would send to Azure — so the
 * emulator's validation and rules apply to the fleet exactly as to anything RPO does later.
 *
 * Shape: subscriptions → resource groups → disks, availability sets, scale sets, virtual machines.
 * Names refer to resources of the same resource group; a full ARM id may be used instead.
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { z } from 'zod';
import { ensureError } from '../../lib/errors';
import { ValidationError, parseWith, rule } from '../../lib/validation';
import { EMULATOR_TAGS } from './simulation';
import { DISK_SKUS } from './handlers/disks';

// ---------------------------------------------------------------------------------------------------------------
// File format

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Azure region names as ARM writes them (`westeurope`, `northeurope`, ...). */
const REGION = /^[a-z][a-z0-9]{2,39}$/;
/** Resource group names: letters, digits, `_ - . ( )`, not ending in a period. */
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;
/** Disk names (disk.json): letters, digits, `_ -`, up to 80 characters. */
const DISK_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** VM and set names: letters, digits, `- _ .`, starting with a letter or digit, up to 64 characters. */
const COMPUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const name = (pattern: RegExp, what: string) =>
  z.string().refine((s) => pattern.test(s), { error: `must be a valid ${what} name`, params: rule('name') });

const tags = z.record(z.string().min(1).max(512), z.string().max(256));

export const CACHING = ['None', 'ReadOnly', 'ReadWrite'] as const;

const diskSpec = z.strictObject({
  name: name(DISK_NAME, 'disk'),
  /** Defaults to the resource group's location. */
  location: z.string().regex(REGION).optional(),
  sku: z.enum(DISK_SKUS),
  sizeGB: z.number().int().min(1).max(65_536),
  /** More than 1 makes a shared disk (must be excluded from restore points). */
  maxShares: z.number().int().min(1).max(10).optional(),
  osType: z.enum(['Linux', 'Windows']).optional(),
  diskIOPSReadWrite: z.number().int().min(1).optional(),
  diskMBpsReadWrite: z.number().int().min(1).optional(),
  /** Customer-managed key: the id of a disk encryption set (copies arrive platform-key encrypted). */
  diskEncryptionSetId: z.string().startsWith('/subscriptions/').optional(),
  zones: z.array(z.string()).max(1).optional(),
  tags: tags.optional(),
});

/** A disk slot of a VM: a disk of the resource group by name (or ARM id), or a disk declared here. */
const diskRef = z.union([z.string().min(1), diskSpec]);

const managedOsDisk = z.strictObject({
  disk: diskRef,
  caching: z.enum(CACHING).default('ReadWrite'),
  writeAcceleratorEnabled: z.boolean().optional(),
});

/** An ephemeral OS disk lives on the host (no managed disk resource); restore points cannot include it. */
const ephemeralOsDisk = z.strictObject({
  ephemeral: z.enum(['CacheDisk', 'ResourceDisk', 'NvmeDisk']),
  sizeGB: z.number().int().min(1).max(4_095).default(30),
});

/** An unmanaged (page blob VHD) OS disk: a VM restore points refuse. */
const unmanagedOsDisk = z.strictObject({
  vhdUri: z.url({ protocol: /^https$/ }),
  sizeGB: z.number().int().min(1).max(4_095).default(127),
  caching: z.enum(CACHING).default('ReadWrite'),
});

const dataDiskSpec = z.strictObject({
  lun: z.number().int().min(0).max(63),
  disk: diskRef,
  caching: z.enum(CACHING).default('None'),
  writeAcceleratorEnabled: z.boolean().optional(),
});

const vmSpec = z
  .strictObject({
    name: name(COMPUTE_NAME, 'virtual machine'),
    location: z.string().regex(REGION).optional(),
    size: z.string().regex(/^(Standard|Basic)_[A-Za-z0-9_]+$/, 'must be a VM size such as Standard_D2s_v5'),
    osType: z.enum(['Linux', 'Windows']).default('Linux'),
    zone: z.string().optional(),
    availabilitySet: z.string().optional(),
    scaleSet: z.string().optional(),
    securityType: z.enum(['Standard', 'TrustedLaunch', 'ConfidentialVM']).optional(),
    /** v6+ sizes (Azure Boost) attach disks over NVMe. */
    diskControllerType: z.enum(['SCSI', 'NVMe']).optional(),
    osDisk: z.union([managedOsDisk, ephemeralOsDisk, unmanagedOsDisk]),
    dataDisks: z.array(dataDiskSpec).max(64).default([]),
    /** VM agent status the emulator reports (app-consistent points need `Ready`). */
    vmAgent: z.enum(['Ready', 'NotReady']).default('Ready'),
    powerState: z.enum(['running', 'stopped', 'deallocated']).default('running'),
    tags: tags.optional(),
  })
  .refine((vm) => !(vm.availabilitySet && vm.scaleSet), {
    error: 'a VM is in an availability set or a scale set, not both',
    params: rule('one-set'),
  })
  .refine((vm) => new Set(vm.dataDisks.map((d) => d.lun)).size === vm.dataDisks.length, {
    error: 'data disk luns must be unique',
    params: rule('unique-lun'),
  });

const availabilitySetSpec = z.strictObject({
  name: name(COMPUTE_NAME, 'availability set'),
  location: z.string().regex(REGION).optional(),
  faultDomains: z.number().int().min(1).max(3).default(2),
  updateDomains: z.number().int().min(1).max(20).default(5),
  tags: tags.optional(),
});

const scaleSetSpec = z.strictObject({
  name: name(COMPUTE_NAME, 'scale set'),
  location: z.string().regex(REGION).optional(),
  orchestrationMode: z.enum(['Flexible', 'Uniform']),
  faultDomains: z.number().int().min(1).max(5).default(1),
  /** Uniform sets describe their instances: VM size of the model. */
  size: z.string().optional(),
  tags: tags.optional(),
});

const resourceGroupSpec = z.strictObject({
  name: z.string().refine((s) => RESOURCE_GROUP.test(s), {
    error: 'must be a valid resource group name',
    params: rule('name'),
  }),
  location: z.string().regex(REGION, 'must be a region name such as westeurope'),
  disks: z.array(diskSpec).default([]),
  availabilitySets: z.array(availabilitySetSpec).default([]),
  scaleSets: z.array(scaleSetSpec).default([]),
  virtualMachines: z.array(vmSpec).default([]),
});

const subscriptionSpec = z.strictObject({
  id: z.string().regex(GUID, 'must be a subscription GUID'),
  /** A label for people; ARM does not see it. */
  displayName: z.string().optional(),
  resourceGroups: z.array(resourceGroupSpec).min(1),
});

export const fleetSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  subscriptions: z.array(subscriptionSpec).min(1),
});

export type Fleet = z.output<typeof fleetSchema>;
export type FleetDisk = z.output<typeof diskSpec>;
export type FleetVm = z.output<typeof vmSpec>;

/** Validates a parsed fleet file; throws a ValidationError naming each JSON path (`subscriptions[0]...`). */
export function parseFleet(input: unknown, source = 'fleet'): Fleet {
  return parseWith(fleetSchema, input, source);
}

/** Reads and validates a fleet file. */
export async function loadFleetFile(file: string): Promise<Fleet> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`fleet file ${file} is not valid JSON: ${ensureError(error).message}`, { cause: error });
  }
  return parseFleet(json, file);
}

// ---------------------------------------------------------------------------------------------------------------
// Plan: the ARM requests a fleet turns into, in dependency order

export const COMPUTE_API_VERSION = '2025-04-01';
export const DISK_API_VERSION = '2025-01-02';

export type FleetResourceKind = 'disk' | 'availabilitySet' | 'virtualMachineScaleSet' | 'virtualMachine';

export interface FleetRequest {
  kind: FleetResourceKind;
  /** ARM id of the resource the request creates or updates. */
  id: string;
  apiVersion: string;
  body: Record<string, unknown>;
  /** Where in the fleet file the resource is declared, for error messages. */
  source: string;
  /** A POST action run once the resource is provisioned (a VM's power state). */
  action?: 'deallocate' | 'powerOff';
}

/** Requests grouped in stages: everything a stage references exists once the previous stages are done. */
export interface FleetPlan {
  stages: FleetRequest[][];
}

const TYPE_SEGMENT: Record<FleetResourceKind, string> = {
  disk: 'disks',
  availabilitySet: 'availabilitySets',
  virtualMachineScaleSet: 'virtualMachineScaleSets',
  virtualMachine: 'virtualMachines',
};

export function armId(
  subscriptionId: string,
  resourceGroup: string,
  kind: FleetResourceKind,
  resourceName: string,
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/${TYPE_SEGMENT[kind]}/${resourceName}`;
}

function withTags(
  value: Record<string, unknown>,
  tagsValue: Record<string, string> | undefined,
): Record<string, unknown> {
  return tagsValue && Object.keys(tagsValue).length > 0 ? { ...value, tags: tagsValue } : value;
}

function diskBody(disk: FleetDisk, location: string): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    creationData: { createOption: 'Empty' },
    diskSizeGB: disk.sizeGB,
  };
  if (disk.osType) properties.osType = disk.osType;
  if (disk.maxShares !== undefined) properties.maxShares = disk.maxShares;
  if (disk.diskIOPSReadWrite !== undefined) properties.diskIOPSReadWrite = disk.diskIOPSReadWrite;
  if (disk.diskMBpsReadWrite !== undefined) properties.diskMBpsReadWrite = disk.diskMBpsReadWrite;
  if (disk.diskEncryptionSetId) {
    properties.encryption = { type: 'EncryptionAtRestWithCustomerKey', diskEncryptionSetId: disk.diskEncryptionSetId };
  }
  const body: Record<string, unknown> = { location: disk.location ?? location, sku: { name: disk.sku }, properties };
  if (disk.zones) body.zones = disk.zones;
  return withTags(body, disk.tags);
}

interface ResolvedDisk {
  id: string;
  name: string;
  sku?: string;
}

function vmBody(
  vm: FleetVm,
  location: string,
  ids: { availabilitySet?: string; scaleSet?: string },
  osDisk: ResolvedDisk | undefined,
  dataDisks: ResolvedDisk[],
): Record<string, unknown> {
  const storageProfile: Record<string, unknown> = {};
  const os = vm.osDisk;
  if ('disk' in os && osDisk) {
    storageProfile.osDisk = {
      osType: vm.osType,
      name: osDisk.name,
      createOption: 'Attach',
      caching: os.caching,
      ...(os.writeAcceleratorEnabled !== undefined ? { writeAcceleratorEnabled: os.writeAcceleratorEnabled } : {}),
      managedDisk: {
        id: osDisk.id,
        ...(osDisk.sku ? { storageAccountType: osDisk.sku } : {}),
        ...(vm.securityType === 'ConfidentialVM'
          ? { securityProfile: { securityEncryptionType: 'VMGuestStateOnly' } }
          : {}),
      },
    };
  } else if ('ephemeral' in os) {
    storageProfile.imageReference = IMAGES[vm.osType];
    storageProfile.osDisk = {
      osType: vm.osType,
      name: `${vm.name}_OsDisk_ephemeral`,
      createOption: 'FromImage',
      caching: 'ReadOnly',
      diskSizeGB: os.sizeGB,
      diffDiskSettings: { option: 'Local', placement: os.ephemeral },
      managedDisk: { storageAccountType: 'Standard_LRS' },
    };
  } else if ('vhdUri' in os) {
    storageProfile.imageReference = IMAGES[vm.osType];
    storageProfile.osDisk = {
      osType: vm.osType,
      name: `${vm.name}-osdisk`,
      createOption: 'FromImage',
      caching: os.caching,
      diskSizeGB: os.sizeGB,
      vhd: { uri: os.vhdUri },
    };
  }
  storageProfile.dataDisks = vm.dataDisks.map((slot, index) => {
    const disk = dataDisks[index] as ResolvedDisk;
    return {
      lun: slot.lun,
      name: disk.name,
      createOption: 'Attach',
      caching: slot.caching,
      ...(slot.writeAcceleratorEnabled !== undefined ? { writeAcceleratorEnabled: slot.writeAcceleratorEnabled } : {}),
      managedDisk: { id: disk.id, ...(disk.sku ? { storageAccountType: disk.sku } : {}) },
    };
  });
  if (vm.diskControllerType) storageProfile.diskControllerType = vm.diskControllerType;
  const properties: Record<string, unknown> = {
    hardwareProfile: { vmSize: vm.size },
    storageProfile,
    networkProfile: { networkInterfaces: [] },
  };
  // Azure refuses to attach an Ultra disk unless the VM says it can take one.
  if ([osDisk, ...dataDisks].some((disk) => disk?.sku === 'UltraSSD_LRS')) {
    properties.additionalCapabilities = { ultraSSDEnabled: true };
  }
  // Azure takes an osProfile only when the OS disk is made from an image.
  if (!('disk' in os)) {
    properties.osProfile = {
      computerName: vm.name.slice(0, 15),
      adminUsername: 'azureuser',
      ...(vm.osType === 'Linux'
        ? { linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true } }
        : { windowsConfiguration: { provisionVMAgent: true } }),
    };
  }
  if (ids.availabilitySet) properties.availabilitySet = { id: ids.availabilitySet };
  if (ids.scaleSet) properties.virtualMachineScaleSet = { id: ids.scaleSet };
  if (vm.securityType === 'ConfidentialVM') {
    properties.securityProfile = {
      securityType: 'ConfidentialVM',
      uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
    };
  } else if (vm.securityType === 'TrustedLaunch') {
    properties.securityProfile = {
      securityType: 'TrustedLaunch',
      uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
    };
  }
  const body: Record<string, unknown> = { location: vm.location ?? location, properties };
  if (vm.zone) body.zones = [vm.zone];
  // ARM has no property for the guest agent's health; the emulator reads it from a tag (simulation.ts).
  const hints: Record<string, string> = vm.vmAgent === 'Ready' ? {} : { [EMULATOR_TAGS.vmAgent]: vm.vmAgent };
  return withTags(body, { ...vm.tags, ...hints });
}

const IMAGES: Record<'Linux' | 'Windows', Record<string, string>> = {
  Linux: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
  Windows: {
    publisher: 'MicrosoftWindowsServer',
    offer: 'WindowsServer',
    sku: '2022-datacenter-azure-edition',
    version: 'latest',
  },
};

class PlanIssues {
  readonly issues: { field: string; rule: string; message: string }[] = [];
  add(field: string, ruleName: string, message: string): void {
    this.issues.push({ field, rule: ruleName, message });
  }
}

/**
 * Turns a validated fleet into ARM requests: disks (declared in the resource group or inline in a VM),
 * then availability sets and scale sets, then VMs. Checks every cross-reference and duplicate name,
 * naming the JSON path of the offender.
 */
export function planFleet(fleet: Fleet, source = 'fleet'): FleetPlan {
  const problems = new PlanIssues();
  const disks: FleetRequest[] = [];
  const sets: FleetRequest[] = [];
  const vms: FleetRequest[] = [];
  const seen = new Map<string, string>();
  const claim = (id: string, field: string): boolean => {
    const key = id.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.add(field, 'duplicate', `declares ${id} again (first declared at ${earlier})`);
      return false;
    }
    seen.set(key, field);
    return true;
  };

  fleet.subscriptions.forEach((sub, s) => {
    sub.resourceGroups.forEach((rg, g) => {
      const at = `subscriptions[${s}].resourceGroups[${g}]`;
      const idOf = (kind: FleetResourceKind, resourceName: string) => armId(sub.id, rg.name, kind, resourceName);
      const declaredDisks = new Map<string, ResolvedDisk>();
      const addDisk = (disk: FleetDisk, field: string): ResolvedDisk => {
        const resolved = { id: idOf('disk', disk.name), name: disk.name, sku: disk.sku };
        if (claim(resolved.id, field)) {
          disks.push({
            kind: 'disk',
            id: resolved.id,
            apiVersion: DISK_API_VERSION,
            body: diskBody(disk, rg.location),
            source: field,
          });
          declaredDisks.set(disk.name.toLowerCase(), resolved);
        }
        return resolved;
      };
      rg.disks.forEach((disk, i) => addDisk(disk, `${at}.disks[${i}]`));
      // Inline disks first, so that a VM may name a disk another VM declares inline (shared disks).
      rg.virtualMachines.forEach((vm, v) => {
        const os = vm.osDisk;
        if ('disk' in os && typeof os.disk !== 'string') {
          addDisk({ ...os.disk, osType: os.disk.osType ?? vm.osType }, `${at}.virtualMachines[${v}].osDisk.disk`);
        }
        vm.dataDisks.forEach((slot, d) => {
          if (typeof slot.disk !== 'string') addDisk(slot.disk, `${at}.virtualMachines[${v}].dataDisks[${d}].disk`);
        });
      });
      const setIds = new Map<string, { id: string; kind: FleetResourceKind }>();
      rg.availabilitySets.forEach((set, i) => {
        const id = idOf('availabilitySet', set.name);
        if (!claim(id, `${at}.availabilitySets[${i}]`)) return;
        setIds.set(`availabilitySet:${set.name.toLowerCase()}`, { id, kind: 'availabilitySet' });
        const body = {
          location: set.location ?? rg.location,
          sku: { name: 'Aligned' },
          properties: { platformFaultDomainCount: set.faultDomains, platformUpdateDomainCount: set.updateDomains },
        };
        sets.push({
          kind: 'availabilitySet',
          id,
          apiVersion: COMPUTE_API_VERSION,
          body: withTags(body, set.tags),
          source: `${at}.availabilitySets[${i}]`,
        });
      });
      rg.scaleSets.forEach((set, i) => {
        const id = idOf('virtualMachineScaleSet', set.name);
        if (!claim(id, `${at}.scaleSets[${i}]`)) return;
        setIds.set(`scaleSet:${set.name.toLowerCase()}`, { id, kind: 'virtualMachineScaleSet' });
        const properties: Record<string, unknown> = {
          orchestrationMode: set.orchestrationMode,
          platformFaultDomainCount: set.faultDomains,
        };
        const body: Record<string, unknown> = { location: set.location ?? rg.location, properties };
        if (set.orchestrationMode === 'Uniform') {
          body.sku = { name: set.size ?? 'Standard_D2s_v5', tier: 'Standard', capacity: 0 };
          properties.upgradePolicy = { mode: 'Manual' };
        }
        sets.push({
          kind: 'virtualMachineScaleSet',
          id,
          apiVersion: COMPUTE_API_VERSION,
          body: withTags(body, set.tags),
          source: `${at}.scaleSets[${i}]`,
        });
      });
      const resolveDisk = (ref: string | FleetDisk, field: string): ResolvedDisk | undefined => {
        if (typeof ref !== 'string') return declaredDisks.get(ref.name.toLowerCase());
        if (ref.startsWith('/')) {
          const parts = ref.split('/');
          return { id: ref, name: parts[parts.length - 1] ?? ref };
        }
        const found = declaredDisks.get(ref.toLowerCase());
        if (!found) problems.add(field, 'unknown-disk', `names disk "${ref}", which ${at}.disks does not declare`);
        return found;
      };
      rg.virtualMachines.forEach((vm, v) => {
        const field = `${at}.virtualMachines[${v}]`;
        const id = idOf('virtualMachine', vm.name);
        if (!claim(id, field)) return;
        const os = vm.osDisk;
        const osDisk = 'disk' in os ? resolveDisk(os.disk, `${field}.osDisk.disk`) : undefined;
        const dataDisks = vm.dataDisks.map((slot, d) => resolveDisk(slot.disk, `${field}.dataDisks[${d}].disk`));
        const setRef = (key: 'availabilitySet' | 'scaleSet'): string | undefined => {
          const wanted = vm[key];
          if (wanted === undefined) return undefined;
          if (wanted.startsWith('/')) return wanted;
          const found = setIds.get(`${key}:${wanted.toLowerCase()}`);
          if (!found)
            problems.add(
              `${field}.${key}`,
              `unknown-${key === 'scaleSet' ? 'scale-set' : 'availability-set'}`,
              `names "${wanted}", which ${at} does not declare`,
            );
          return found?.id;
        };
        const availabilitySet = setRef('availabilitySet');
        const scaleSet = setRef('scaleSet');
        if (('disk' in os && !osDisk) || dataDisks.some((d) => d === undefined)) return;
        vms.push({
          kind: 'virtualMachine',
          id,
          apiVersion: COMPUTE_API_VERSION,
          body: vmBody(
            vm,
            rg.location,
            { ...(availabilitySet ? { availabilitySet } : {}), ...(scaleSet ? { scaleSet } : {}) },
            osDisk,
            dataDisks as ResolvedDisk[],
          ),
          source: field,
          ...(vm.powerState === 'deallocated'
            ? { action: 'deallocate' as const }
            : vm.powerState === 'stopped'
              ? { action: 'powerOff' as const }
              : {}),
        });
      });
    });
  });
  if (problems.issues.length > 0) throw new ValidationError(source, problems.issues);
  return { stages: [disks, sets, vms].filter((stage) => stage.length > 0) };
}

// ---------------------------------------------------------------------------------------------------------------
// Apply: PUT every resource through the emulator's ARM API, stage by stage

export interface ApplyFleetOptions {
  /** Requests in flight at once within a stage (default 8). */
  concurrency?: number;
  /**
   * Waits between two polls of a long-running operation. Default 1 s of real time: with 32 operations
   * in flight that stays within ARM's read bucket (25 reads/s per subscription).
   */
  betweenPolls?: () => Promise<void>;
  /** Gives up on one resource after this much real time (default 5 min). */
  timeoutMs?: number;
  /** Progress lines (one per stage). */
  log?: (line: string) => void;
}

export interface ApplyFleetResult {
  /** ARM ids of every resource applied, in the order applied. */
  ids: string[];
  counts: Record<FleetResourceKind, number>;
}

interface ArmResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** An ARM call that failed while applying a fleet; the message names the resource and the fleet path. */
export class FleetApplyError extends Error {
  constructor(
    readonly request: FleetRequest,
    readonly status: number | undefined,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`fleet ${request.source} (${request.id}): ${detail}`);
    this.name = 'FleetApplyError';
  }
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled']);
/** A throttled call is retried this often (each after its Retry-After, at most 10 s) before it counts as failed. */
const MAX_THROTTLE_RETRIES = 30;

class ArmConnection {
  private readonly agent: https.Agent;

  constructor(
    private readonly base: URL,
    caPem: string,
    maxSockets: number,
  ) {
    this.agent = new https.Agent({ ca: caPem, keepAlive: true, maxSockets });
  }

  close(): void {
    this.agent.destroy();
  }

  /** One HTTP exchange; 429s are retried after their Retry-After (capped at 10 s of real time). */
  async send(method: string, target: string, body?: unknown): Promise<ArmResponse> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.once(method, target, body);
      if (response.status !== 429 || attempt >= MAX_THROTTLE_RETRIES) return response;
      const retryAfter = Number(response.headers['retry-after'] ?? '1');
      await delay(Math.min(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000, 10_000));
    }
  }

  private once(method: string, target: string, body?: unknown): Promise<ArmResponse> {
    const url = new URL(target, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: 'Bearer rpo-fleet-loader',
            accept: 'application/json',
            ...(payload !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = undefined;
            if (text !== '') {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            const headers: Record<string, string | undefined> = {};
            for (const [key, value] of Object.entries(res.headers)) {
              headers[key] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({ status: res.statusCode ?? 0, headers, body: parsed });
          });
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorOf(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const wrapped = (body as { error?: unknown }).error;
  const inner = (typeof wrapped === 'object' && wrapped !== null ? wrapped : body) as Record<string, unknown>;
  return {
    ...(typeof inner.code === 'string' ? { code: inner.code } : {}),
    ...(typeof inner.message === 'string' ? { message: inner.message } : {}),
  };
}

function provisioningState(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const properties = (body as { properties?: unknown }).properties;
  if (typeof properties !== 'object' || properties === null) return undefined;
  const state = (properties as { provisioningState?: unknown }).provisioningState;
  return typeof state === 'string' ? state : undefined;
}

function fail(request: FleetRequest, what: string, response: ArmResponse): FleetApplyError {
  const { code, message } = errorOf(response.body);
  const detail = `${what} answered ${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  return new FleetApplyError(request, response.status, code, detail);
}

function withApiVersion(target: string, apiVersion: string): string {
  return target.includes('api-version=')
    ? target
    : `${target}${target.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
}

/** Follows the long-running operation a PUT or POST started, by its headers, until it is terminal. */
async function followOperation(
  arm: ArmConnection,
  request: FleetRequest,
  what: string,
  started: ArmResponse,
  wait: (what: string) => Promise<void>,
): Promise<void> {
  const asyncOperation = started.headers['azure-asyncoperation'];
  const location = started.headers.location;
  if (asyncOperation) {
    for (;;) {
      const poll = await arm.send('GET', withApiVersion(asyncOperation, request.apiVersion));
      if (poll.status !== 200) throw fail(request, `${what} operation status`, poll);
      const status = (poll.body as { status?: unknown } | undefined)?.status;
      const normalized = typeof status === 'string' ? status.toLowerCase() : '';
      if (normalized === 'succeeded') return;
      if (TERMINAL.has(normalized)) throw fail(request, `${what} (operation ${String(status)})`, poll);
      await wait(what);
    }
  } else if (location && started.status === 202) {
    for (;;) {
      const poll = await arm.send('GET', withApiVersion(location, request.apiVersion));
      if (poll.status === 200 || poll.status === 201 || poll.status === 204) return;
      if (poll.status !== 202) throw fail(request, `${what} operation location`, poll);
      await wait(what);
    }
  }
}

/** PUTs one resource, waits until it is provisioned, then runs its follow-up action (e.g. deallocate). */
async function applyRequest(
  arm: ArmConnection,
  request: FleetRequest,
  betweenPolls: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const wait = async (what: string): Promise<void> => {
    if (Date.now() > deadline) {
      throw new FleetApplyError(request, undefined, undefined, `${what} did not finish within ${timeoutMs} ms`);
    }
    await betweenPolls();
  };
  const resourceUrl = `${request.id}?api-version=${request.apiVersion}`;
  const put = await arm.send('PUT', resourceUrl, request.body);
  if (put.status < 200 || put.status > 202) throw fail(request, 'PUT', put);
  await followOperation(arm, request, 'PUT', put, wait);
  // Whatever the headers said, the resource is done once its provisioningState is terminal.
  for (;;) {
    const get = await arm.send('GET', resourceUrl);
    if (get.status !== 200) throw fail(request, 'GET after PUT', get);
    const state = provisioningState(get.body)?.toLowerCase() ?? 'succeeded';
    if (state === 'succeeded') break;
    if (TERMINAL.has(state)) throw fail(request, `provisioning (${state})`, get);
    await wait(`provisioning (${state})`);
  }
  if (request.action) {
    const what = `POST ${request.action}`;
    const post = await arm.send('POST', `${request.id}/${request.action}?api-version=${request.apiVersion}`);
    if (post.status < 200 || post.status > 202) throw fail(request, what, post);
    await followOperation(arm, request, what, post, wait);
  }
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length === 1) throw ensureError(errors[0]);
  if (errors.length > 1) {
    throw new AggregateError(
      errors,
      `${errors.length} fleet resources failed:\n${errors.map((e) => `- ${ensureError(e).message}`).join('\n')}`,
    );
  }
}

/**
 * Applies a fleet to the emulator at `url` (its CA in `caPem`): disks, then sets, then VMs, each stage
 * with bounded concurrency. Idempotent: applying the same fleet again PUTs the same bodies, which the
 * emulator (like Azure) accepts without changing anything.
 */
export async function applyFleet(
  url: string,
  caPem: string,
  fleet: Fleet,
  options: ApplyFleetOptions = {},
): Promise<ApplyFleetResult> {
  const plan = planFleet(fleet);
  const concurrency = options.concurrency ?? 8;
  const betweenPolls = options.betweenPolls ?? (() => delay(1000));
  const timeoutMs = options.timeoutMs ?? 300_000;
  const arm = new ArmConnection(new URL(url), caPem, concurrency);
  const counts: Record<FleetResourceKind, number> = {
    disk: 0,
    availabilitySet: 0,
    virtualMachineScaleSet: 0,
    virtualMachine: 0,
  };
  const ids: string[] = [];
  try {
    for (const stage of plan.stages) {
      await inParallel(stage, concurrency, async (request) => {
        try {
          await applyRequest(arm, request, betweenPolls, timeoutMs);
        } catch (error) {
          if (error instanceof FleetApplyError) throw error;
          throw new FleetApplyError(request, undefined, undefined, ensureError(error).message);
        }
        counts[request.kind]++;
      });
      ids.push(...stage.map((request) => request.id));
      const kinds = [...new Set(stage.map((request) => request.kind))].join(' + ');
      options.log?.(`fleet: applied ${stage.length} (${kinds})`);
    }
  } finally {
    arm.close();
  }
  return { ids, counts };
}
