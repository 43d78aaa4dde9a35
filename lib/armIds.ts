/**
 * ARM resource ids of the Microsoft.Compute resources RPO touches: parsed into typed segments with an
 * allow-list (docs/limits-reliability-security.md C5), never concatenated from untrusted text.
 *
 * Keywords (`subscriptions`, `resourceGroups`, `providers`), the provider and the type segments match
 * case-insensitively and are returned in their canonical spelling; names keep the caller's spelling.
 */

export const COMPUTE_PROVIDER = 'Microsoft.Compute';

/** Longest id accepted. The longest legal id here (disk restore point) stays well below it. */
export const MAX_ARM_ID_LENGTH = 1024;

export type ArmIdKind =
  | 'virtualMachine'
  | 'disk'
  | 'availabilitySet'
  | 'virtualMachineScaleSet'
  | 'restorePointCollection'
  | 'restorePoint'
  | 'diskRestorePoint';

interface ArmIdCommon {
  /** Canonical form: lower-case subscription GUID, canonical keywords/provider/types, names as given. */
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly provider: typeof COMPUTE_PROVIDER;
  /** Full ARM resource type as ARM reports it, e.g. `Microsoft.Compute/restorePointCollections/restorePoints`. */
  readonly type: string;
  /** Name of the resource itself (the last segment). */
  readonly name: string;
}

export interface VirtualMachineId extends ArmIdCommon {
  readonly kind: 'virtualMachine';
}
export interface DiskId extends ArmIdCommon {
  readonly kind: 'disk';
}
export interface AvailabilitySetId extends ArmIdCommon {
  readonly kind: 'availabilitySet';
}
export interface VirtualMachineScaleSetId extends ArmIdCommon {
  readonly kind: 'virtualMachineScaleSet';
}
export interface RestorePointCollectionId extends ArmIdCommon {
  readonly kind: 'restorePointCollection';
}
export interface RestorePointId extends ArmIdCommon {
  readonly kind: 'restorePoint';
  readonly collectionName: string;
}
export interface DiskRestorePointId extends ArmIdCommon {
  readonly kind: 'diskRestorePoint';
  readonly collectionName: string;
  readonly restorePointName: string;
}

export type ArmId =
  | VirtualMachineId
  | DiskId
  | AvailabilitySetId
  | VirtualMachineScaleSetId
  | RestorePointCollectionId
  | RestorePointId
  | DiskRestorePointId;

export type ArmIdOf<K extends ArmIdKind> = Extract<ArmId, { kind: K }>;

interface NameRule {
  readonly pattern: RegExp;
  readonly description: string;
}

/*
 * Name rules, ASCII only on purpose: Unicode look-alikes must not pass for a real name (C5 fuzzing list).
 * Sources: resource-name-rules (learn.microsoft.com), disk.json (disk names), DiskRestorePoint.tsp (disk
 * restore point names). Collections and restore points have no rule in the spec: we take the common
 * ARM name alphabet and 1-80 characters, which covers every name RPO generates.
 */
const NAME_RULES: Readonly<Record<ArmIdKind, NameRule>> = {
  virtualMachine: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$/,
    description:
      '1-64 characters: letters, digits, "_", ".", "-"; starts with a letter or digit; does not end with "." or "-"',
  },
  virtualMachineScaleSet: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$/,
    description:
      '1-64 characters: letters, digits, "_", ".", "-"; starts with a letter or digit; does not end with "." or "-"',
  },
  disk: {
    pattern: /^[A-Za-z0-9_-]{1,80}$/,
    description: '1-80 characters: letters, digits, "_", "-"',
  },
  availabilitySet: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$/,
    description:
      '1-80 characters: letters, digits, "_", ".", "-"; starts with a letter or digit; ends with a letter, digit or "_"',
  },
  restorePointCollection: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$/,
    description:
      '1-80 characters: letters, digits, "_", ".", "-"; starts with a letter or digit; ends with a letter, digit or "_"',
  },
  restorePoint: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$/,
    description:
      '1-80 characters: letters, digits, "_", ".", "-"; starts with a letter or digit; ends with a letter, digit or "_"',
  },
  diskRestorePoint: {
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,258}[A-Za-z0-9_]$|^[A-Za-z0-9]$/,
    description:
      '1-260 characters: letters, digits, "_", ".", "-"; starts with a letter or digit; does not end with "." or "-"',
  },
};

const RESOURCE_GROUP_RULE: NameRule = {
  pattern: /^[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]$/,
  description: '1-90 characters: letters, digits, "_", "(", ")", ".", "-"; does not end with "."',
};

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Type segments below the provider, canonical spelling. Each name follows its type segment. */
const TYPE_PATHS: Readonly<Record<ArmIdKind, readonly string[]>> = {
  virtualMachine: ['virtualMachines'],
  disk: ['disks'],
  availabilitySet: ['availabilitySets'],
  virtualMachineScaleSet: ['virtualMachineScaleSets'],
  restorePointCollection: ['restorePointCollections'],
  restorePoint: ['restorePointCollections', 'restorePoints'],
  diskRestorePoint: ['restorePointCollections', 'restorePoints', 'diskRestorePoints'],
};

const ALL_KINDS = Object.keys(TYPE_PATHS) as ArmIdKind[];

export interface ParseArmIdOptions<K extends ArmIdKind> {
  /** Name of the input being validated (e.g. `policy.vms[2]`); every error message starts with it. */
  readonly field: string;
  /** Kinds accepted; default: every kind this module knows. */
  readonly expect?: K | readonly K[];
}

/** Outcome of {@link checkArmId}: the parsed id, or the rule broken (kebab-case name) and what is wrong. */
export type ArmIdCheck<K extends ArmIdKind> =
  | { readonly ok: true; readonly value: ArmIdOf<K> }
  | { readonly ok: false; readonly rule: string; readonly message: string };

/**
 * Parses and validates an ARM resource id. Throws a TypeError naming `options.field` and the rule broken.
 */
export function parseArmId<K extends ArmIdKind = ArmIdKind>(value: unknown, options: ParseArmIdOptions<K>): ArmIdOf<K> {
  const result = checkArmId(value, options.expect);
  if (result.ok) return result.value;
  throw new TypeError(`${options.field} ${result.message} [${result.rule}]`);
}

/**
 * Validates without throwing, for schema refinements that collect every problem of an input
 * (`lib/validation.ts`): `message` reads after the field name ("must be an ARM resource id of ...").
 */
export function checkArmId<K extends ArmIdKind = ArmIdKind>(value: unknown, expect?: K | readonly K[]): ArmIdCheck<K> {
  const expected: readonly ArmIdKind[] =
    expect === undefined ? ALL_KINDS : typeof expect === 'string' ? [expect] : expect;
  const fail = (rule: string, problem: string): ArmIdCheck<K> => ({
    ok: false,
    rule,
    message: `must be an ARM resource id of ${describeKinds(expected)}: ${problem}`,
  });

  if (typeof value !== 'string')
    return fail('type', `got ${value === null ? 'null' : typeof value}, expected a string`);
  if (value.length === 0) return fail('required', 'it is empty');
  if (value.length > MAX_ARM_ID_LENGTH) return fail('max-length', `it is longer than ${MAX_ARM_ID_LENGTH} characters`);
  // Characters that change how ARM or a URL parser reads the path are refused before anything else.
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(value)) return fail('characters', 'whitespace and control characters are not allowed');
  if (/[?#]/.test(value)) return fail('characters', 'query strings ("?") and fragments ("#") are not allowed');
  if (value.includes('%')) return fail('characters', 'percent-encoding ("%") is not allowed');
  if (value.includes('\\')) return fail('characters', 'backslashes are not allowed');
  if (value.includes('..')) return fail('characters', '".." is not allowed');
  if (/[^\x21-\x7e]/.test(value)) return fail('characters', 'only ASCII characters are allowed');
  if (!value.startsWith('/')) return fail('structure', 'it must start with "/subscriptions/"');

  const segments = value.slice(1).split('/');
  if (segments.some((s) => s.length === 0)) {
    return fail('structure', 'empty path segments ("//" or a trailing "/") are not allowed');
  }

  const [subscriptionsKeyword, subscriptionId, resourceGroupsKeyword, resourceGroup, providersKeyword, provider] =
    segments;
  if (!equalsIgnoreCase(subscriptionsKeyword, 'subscriptions')) {
    return fail('structure', 'it must start with "/subscriptions/"');
  }
  if (subscriptionId === undefined || !GUID.test(subscriptionId)) {
    return fail('subscription', 'the subscription id must be a GUID');
  }
  if (!equalsIgnoreCase(resourceGroupsKeyword, 'resourceGroups') || resourceGroup === undefined) {
    return fail('structure', '"/resourceGroups/{name}" must follow the subscription');
  }
  if (!RESOURCE_GROUP_RULE.pattern.test(resourceGroup)) {
    return fail('name', `resource group name "${resourceGroup}" breaks the rule: ${RESOURCE_GROUP_RULE.description}`);
  }
  if (!equalsIgnoreCase(providersKeyword, 'providers')) {
    return fail('structure', '"/providers/" must follow the resource group');
  }
  if (!equalsIgnoreCase(provider, COMPUTE_PROVIDER))
    return fail('provider', `the provider must be ${COMPUTE_PROVIDER}`);

  const typeAndNames = segments.slice(6);
  const kind = expected.find((k) => matchesTypePath(typeAndNames, TYPE_PATHS[k]));
  if (kind === undefined) {
    const got = typeAndNames.filter((_, i) => i % 2 === 0).join('/');
    return fail(
      'type',
      `the type "${got === '' ? '(none)' : got}" with ${typeAndNames.length} segments is not accepted here`,
    );
  }

  const typePath = TYPE_PATHS[kind];
  const names = typeAndNames.filter((_, i) => i % 2 === 1);
  // Parent names (collection, restore point) follow the rule of their own kind.
  const nameKinds: ArmIdKind[] = typePath.map((_, i) => (i === typePath.length - 1 ? kind : parentKind(i)));
  for (const [i, name] of names.entries()) {
    const rule = NAME_RULES[nameKinds[i] ?? kind];
    if (!rule.pattern.test(name))
      return fail('name', `${typePath[i]} name "${name}" breaks the rule: ${rule.description}`);
  }

  const canonicalSubscription = subscriptionId.toLowerCase();
  const canonical =
    `/subscriptions/${canonicalSubscription}/resourceGroups/${resourceGroup}/providers/${COMPUTE_PROVIDER}/` +
    typePath.map((t, i) => `${t}/${names[i] ?? ''}`).join('/');
  const common: ArmIdCommon = {
    id: canonical,
    subscriptionId: canonicalSubscription,
    resourceGroup,
    provider: COMPUTE_PROVIDER,
    type: `${COMPUTE_PROVIDER}/${typePath.join('/')}`,
    name: names[names.length - 1] ?? '',
  };
  const parsed: ArmId =
    kind === 'restorePoint'
      ? { ...common, kind, collectionName: names[0] ?? '' }
      : kind === 'diskRestorePoint'
        ? { ...common, kind, collectionName: names[0] ?? '', restorePointName: names[1] ?? '' }
        : { ...common, kind };
  return { ok: true, value: Object.freeze(parsed) as ArmIdOf<K> };
}

/** Like {@link parseArmId} but answers undefined instead of throwing. */
export function tryParseArmId<K extends ArmIdKind = ArmIdKind>(
  value: unknown,
  options: Omit<ParseArmIdOptions<K>, 'field'> = {},
): ArmIdOf<K> | undefined {
  const result = checkArmId(value, options.expect);
  return result.ok ? result.value : undefined;
}

export const parseVirtualMachineId = (value: unknown, field: string): VirtualMachineId =>
  parseArmId(value, { field, expect: 'virtualMachine' });
export const parseDiskId = (value: unknown, field: string): DiskId => parseArmId(value, { field, expect: 'disk' });
export const parseRestorePointCollectionId = (value: unknown, field: string): RestorePointCollectionId =>
  parseArmId(value, { field, expect: 'restorePointCollection' });
export const parseRestorePointId = (value: unknown, field: string): RestorePointId =>
  parseArmId(value, { field, expect: 'restorePoint' });
export const parseDiskRestorePointId = (value: unknown, field: string): DiskRestorePointId =>
  parseArmId(value, { field, expect: 'diskRestorePoint' });

/**
 * Whether two ARM ids name the same resource. ARM ids are case-insensitive end to end (Azure returns
 * the same disk as `.../resourceGroups/RG1/...` in one payload and `.../resourceGroups/rg1/...` in another),
 * and a trailing "/" does not change the resource.
 */
export function sameArmId(a: string | undefined | null, b: string | undefined | null): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return false;
  const normalize = (s: string) => s.trim().replace(/\/+$/, '').toLowerCase();
  const left = normalize(a);
  return left.length > 0 && left === normalize(b);
}

function equalsIgnoreCase(actual: string | undefined, expected: string): boolean {
  return actual !== undefined && actual.toLowerCase() === expected.toLowerCase();
}

function matchesTypePath(typeAndNames: readonly string[], typePath: readonly string[]): boolean {
  return (
    typeAndNames.length === typePath.length * 2 && typePath.every((t, i) => equalsIgnoreCase(typeAndNames[i * 2], t))
  );
}

function parentKind(index: number): ArmIdKind {
  return index === 0 ? 'restorePointCollection' : 'restorePoint';
}

function describeKinds(kinds: readonly ArmIdKind[]): string {
  const types = kinds.map((k) => `${COMPUTE_PROVIDER}/${TYPE_PATHS[k].join('/')}`);
  return types.length === 1
    ? `type ${types[0]}`
    : `type ${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}`;
}
