/**
 * Reads the parts of an Azure VM size name that the restore point support matrix depends on.
 * Size names follow `[Family][vCPUs][-constrained][features][_accelerator][_version]`,
 * e.g. `Standard_E96-24ads_v6`, `Standard_NC24ads_A100_v4` (learn.microsoft.com, "VM naming conventions").
 */
export interface VmSizeParts {
  /** Family and sub-family letters, upper case: `D`, `DC`, `NC`. */
  readonly family: string;
  /** Additive feature letters, lower case: `a` (AMD), `p` (Arm), `s` (Premium storage), `d` (local disk)... */
  readonly features: string;
  /** Version number, 1 when the name has none. */
  readonly version: number;
}

const SIZE_NAME = /^(?:standard|basic)_([a-z]+)\d+(?:-\d+)?([a-z]*)(?:_[a-z0-9]+?)*?(?:_v(\d+))?$/i;

/** Parses a VM size name; undefined when it does not follow the naming convention. */
export function parseVmSize(size: string | undefined): VmSizeParts | undefined {
  if (size === undefined) return undefined;
  const match = SIZE_NAME.exec(size);
  if (match === null) return undefined;
  const [, family = '', features = '', version] = match;
  return {
    family: family.toUpperCase(),
    features: features.toLowerCase(),
    version: version === undefined ? 1 : Number(version),
  };
}

/**
 * Azure Boost sizes named by the support matrix: Intel v6 and later (e.g. Dsv6, Edsv6, Esv6) and AMD v7 and
 * later (e.g. Dasv7, Easv7, Faldsv7). Crash-consistent restore points of these sizes with more than one data disk
 * "might not be consistent across disks". Arm-based sizes (`p`) are not named there, so they do not count.
 */
export function isAzureBoostSize(size: string | undefined): boolean {
  const parts = parseVmSize(size);
  if (parts === undefined || parts.features.includes('p')) return false;
  return parts.features.includes('a') ? parts.version >= 7 : parts.version >= 6;
}

/**
 * Whether the size name carries the `s` feature (Premium storage capable). The support matrix supports crash
 * consistency only "for VM SKUs that support Premium storage"; undefined when the name cannot be read.
 */
export function supportsPremiumStorage(size: string | undefined): boolean | undefined {
  const parts = parseVmSize(size);
  if (parts === undefined) return undefined;
  // The DS/GS series predate the feature letter: the S is part of the family name.
  return parts.features.includes('s') || /S$/.test(parts.family);
}
