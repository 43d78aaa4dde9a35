import { z } from 'zod';
import { checkArmId, type ArmIdKind } from './armIds';
import { isReservedPolicyName, POLICY_NAME } from './naming';
import { NcrontabError, parseNcrontab } from './ncrontab';
import { MAX_RESTORE_POINTS_PER_VM } from './retention';
import {
  closestSlots,
  mostSlotsWithin,
  nextSlotAfter,
  shortestSpanOf,
  CADENCE_HORIZON,
  type Schedule,
} from './schedule';
import { isIanaTimeZone } from './timezone';
import { formatPath, parseWith, rule, ValidationError, type ValidationIssue } from './validation';

/**
 * A policy (DESIGN §3): which VMs, how, how often, how long to keep, where to copy. Every field is
 * checked here, once, at the boundary (HTTP PUT, policy files); the rest of RPO trusts a `Policy`.
 * Operator-facing decisions: docs/policies.md.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Azure's minimum interval between two restore points of one VM, per consistency mode (DESIGN §1). */
export const MINIMUM_INTERVAL_HOURS = { ApplicationConsistent: 3, CrashConsistent: 1 } as const;

export const CONSISTENCY_MODES = ['ApplicationConsistent', 'CrashConsistent'] as const;
export type ConsistencyMode = (typeof CONSISTENCY_MODES)[number];

/** Longest `everyHours` accepted: a year. Rarer schedules are a cron (`0 0 0 1 1 *`). */
export const MAX_EVERY_HOURS = 8760;
export const DEFAULT_START_WINDOW_MINUTES = 60;
export const MIN_START_WINDOW_MINUTES = 5;
export const INSTANT_ACCESS_MINUTES = { min: 60, max: 300 } as const;
/** Highest data disk LUN Azure assigns. */
export const MAX_LUN = 63;
/** Ten years: a larger age is a typo, not a retention period (and would overflow date arithmetic). */
export const MAX_RETENTION_DAYS = 3650;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Azure resource group names; ASCII only, like lib/armIds, so that look-alike characters cannot pass. */
const RESOURCE_GROUP = /^[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]$/;
/** Managed disk names (Microsoft.Compute/disks). */
const DISK_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** Azure tag names: 1-512 characters, none of < > % & \ ? / */
const TAG_NAME = /^[^<>%&\\?/]{1,512}$/;
const TAG_VALUE_MAX = 256;
const REGION = /^[a-z][a-z0-9]{1,39}$/;

/** `West Europe`, `westeurope` and `WestEurope` are one region: compare and store regions in this form. */
export function regionKey(region: string): string {
  return region.replace(/\s+/g, '').toLowerCase();
}

const ruled = (ruleName: string, message: string) => ({ error: message, params: rule(ruleName) });

function noDuplicates<T>(key: (item: T) => string, what: string) {
  return (items: readonly T[], ctx: z.RefinementCtx) => {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const k = key(item);
      const first = seen.get(k);
      if (first === undefined) seen.set(k, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `repeats ${what} [${first}]`,
          params: rule('duplicate'),
        });
    });
  };
}

const resourceGroupName = z
  .string()
  .refine(
    (s) => RESOURCE_GROUP.test(s),
    ruled(
      'resource-group-name',
      'must be an Azure resource group name: 1-90 characters of letters, digits, "_", "(", ")", ".", "-", not ending with "."',
    ),
  );

function armIdOf(kinds: readonly ArmIdKind[]) {
  return z.string().superRefine((value, ctx) => {
    const check = checkArmId(value, kinds);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: check.message, params: rule(`arm-id-${check.rule}`) });
  });
}

const retentionSchema = z
  .strictObject({
    count: z
      .int()
      .min(1)
      .max(
        MAX_RESTORE_POINTS_PER_VM,
        `must be at most ${MAX_RESTORE_POINTS_PER_VM} (Azure keeps at most ${MAX_RESTORE_POINTS_PER_VM} restore points per VM)`,
      )
      .optional(),
    maxAgeDays: z.int().min(1).max(MAX_RETENTION_DAYS).optional(),
  })
  .refine(
    (r) => r.count !== undefined || r.maxAgeDays !== undefined,
    ruled('retention-limit', 'must set count, maxAgeDays or both: a policy without a limit fills the VM to the cap'),
  );

const scheduleSchema = z
  .strictObject({
    everyHours: z.int().min(1, 'must be at least 1 hour').max(MAX_EVERY_HOURS).optional(),
    cron: z
      .string()
      .superRefine((expression, ctx) => {
        try {
          const pattern = parseNcrontab(expression);
          if (pattern.secondsOfDay.some((s) => s % 60 !== 0)) {
            ctx.addIssue({
              code: 'custom',
              message: 'must fire on whole minutes (second field 0): restore point names carry the slot to the minute',
              params: rule('whole-minute'),
            });
          }
        } catch (error) {
          if (!(error instanceof NcrontabError)) throw error;
          ctx.addIssue({ code: 'custom', message: `is not NCRONTAB: ${error.message}`, params: rule('ncrontab') });
        }
      })
      .optional(),
    timeZone: z
      .string()
      .refine(
        isIanaTimeZone,
        ruled(
          'time-zone',
          'must be an IANA time zone name such as Europe/Berlin or UTC (not an offset, not a Windows name)',
        ),
      )
      .optional(),
  })
  .superRefine((s, ctx) => {
    const kinds = (s.everyHours !== undefined ? 1 : 0) + (s.cron !== undefined ? 1 : 0);
    if (kinds !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds === 0
            ? 'needs either everyHours or cron'
            : 'takes either everyHours or cron, not both (everyHours is UTC-aligned, cron is wall-clock)',
        params: rule('schedule-kind'),
      });
    }
    if (s.timeZone !== undefined && s.cron === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeZone'],
        message: 'only applies to cron schedules (everyHours slots are aligned to UTC)',
        params: rule('time-zone-needs-cron'),
      });
    }
  })
  .transform((s): Schedule =>
    s.cron !== undefined ? { cron: s.cron, timeZone: s.timeZone ?? 'UTC' } : { everyHours: s.everyHours ?? 0 },
  );

const copySchema = z.strictObject({
  targetRegion: z
    .string()
    .refine(
      (s) => REGION.test(regionKey(s)),
      ruled('region-name', 'must be an Azure region name such as westeurope (or its display name, West Europe)'),
    )
    .transform(regionKey),
  targetResourceGroup: resourceGroupName,
  retention: retentionSchema.optional(),
});

const policyObject = z.strictObject({
  name: z
    .string()
    .refine((s) => POLICY_NAME.test(s), ruled('name-format', 'must be 1-40 characters of a-z, 0-9 and "-"'))
    .refine(
      (s) => !isReservedPolicyName(s),
      ruled('reserved-name', 'is reserved: "ondemand" names on-demand restore points (rpo-ondemand-...)'),
    ),
  enabled: z.boolean().default(true),
  scope: z.strictObject({
    subscriptionIds: z
      .array(z.string().refine((s) => GUID.test(s), ruled('guid', 'must be a subscription id (a GUID)')))
      .min(1)
      .superRefine(noDuplicates((s: string) => s.toLowerCase(), 'subscriptionIds'))
      .transform((ids) => ids.map((s) => s.toLowerCase())),
    resourceGroups: z
      .array(resourceGroupName)
      .min(1)
      .superRefine(noDuplicates((s: string) => s.toLowerCase(), 'resourceGroups'))
      .optional(),
  }),
  selector: z.strictObject({
    tags: z
      .record(
        z
          .string()
          .refine((k) => TAG_NAME.test(k), ruled('tag-name', 'must be 1-512 characters without < > % & \\ ? /')),
        z.string().max(TAG_VALUE_MAX),
      )
      .optional(),
    vmIds: z
      .array(armIdOf(['virtualMachine']))
      .superRefine(noDuplicates((s: string) => s.toLowerCase(), 'vmIds'))
      .optional(),
    vmSetIds: z
      .array(armIdOf(['availabilitySet', 'virtualMachineScaleSet']))
      .superRefine(noDuplicates((s: string) => s.toLowerCase(), 'vmSetIds'))
      .optional(),
  }),
  consistencyMode: z.enum(CONSISTENCY_MODES).default('ApplicationConsistent'),
  fallbackToCrashConsistent: z.boolean().default(false),
  schedule: scheduleSchema,
  startWindowMinutes: z.int().min(MIN_START_WINDOW_MINUTES).default(DEFAULT_START_WINDOW_MINUTES),
  retention: retentionSchema,
  excludeDisks: z
    .strictObject({
      luns: z
        .array(z.int().min(0).max(MAX_LUN))
        .superRefine(noDuplicates((n: number) => String(n), 'luns'))
        .default(() => []),
      names: z
        .array(
          z
            .string()
            .refine(
              (s) => DISK_NAME.test(s),
              ruled('disk-name', 'must be a managed disk name: 1-80 characters of letters, digits, "_" and "-"'),
            ),
        )
        .superRefine(noDuplicates((s: string) => s.toLowerCase(), 'names'))
        .default(() => []),
    })
    .default(() => ({ luns: [], names: [] })),
  copies: z
    .array(copySchema)
    .superRefine((copies, ctx) => {
      const seen = new Map<string, number>();
      copies.forEach((copy, index) => {
        const first = seen.get(copy.targetRegion);
        if (first === undefined) seen.set(copy.targetRegion, index);
        else {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'targetRegion'],
            message: `repeats copies[${first}].targetRegion (${copy.targetRegion}): one copy per region`,
            params: rule('duplicate-region'),
          });
        }
      });
    })
    .default(() => []),
  instantAccess: z
    .strictObject({
      durationMinutes: z.int().min(INSTANT_ACCESS_MINUTES.min).max(INSTANT_ACCESS_MINUTES.max),
    })
    .optional(),
});

type PolicyShape = z.output<typeof policyObject>;

function issue(ctx: z.RefinementCtx, path: PropertyKey[], ruleName: string, message: string): void {
  ctx.addIssue({ code: 'custom', path, message, params: rule(ruleName) });
}

function hours(ms: number): string {
  const h = ms / HOUR_MS;
  return Number.isInteger(h) ? `${h} hour${h === 1 ? '' : 's'}` : `${Math.round(h * 60)} minutes`;
}

function checkCadence(policy: PolicyShape, ctx: z.RefinementCtx): void {
  const schedule = policy.schedule;
  const field = 'everyHours' in schedule ? 'everyHours' : 'cron';
  const minimumHours = MINIMUM_INTERVAL_HOURS[policy.consistencyMode];
  const why =
    policy.consistencyMode === 'ApplicationConsistent'
      ? "Azure's minimum interval between application-consistent restore points"
      : "Azure's minimum interval between crash-consistent restore points";
  if ('cron' in schedule && nextSlotAfter(schedule, CADENCE_HORIZON.fromMs) === undefined) {
    issue(ctx, ['schedule', 'cron'], 'never-fires', 'never fires (no calendar day matches day, month and day-of-week)');
    return;
  }
  const closest = closestSlots(schedule);
  if (closest.gapMs < minimumHours * HOUR_MS) {
    const message =
      'everyHours' in schedule
        ? `must be at least ${minimumHours} hours for ${policy.consistencyMode} (${why})`
        : `fires ${hours(closest.gapMs)} apart at its closest` +
          (closest.between ? ` (${closest.between[0]} and ${closest.between[1]}, across a DST change)` : '') +
          `; ${policy.consistencyMode} needs at least ${minimumHours} hours (${why})`;
    issue(ctx, ['schedule', field], 'minimum-interval', message);
  }
  if (Number.isFinite(closest.gapMs) && policy.startWindowMinutes * 60_000 > closest.gapMs) {
    issue(
      ctx,
      ['startWindowMinutes'],
      'start-window',
      `must not be longer than the schedule's shortest interval (${hours(closest.gapMs)}): a late slot would overlap the next one`,
    );
  }
}

/**
 * A retention by age alone must not need more points than Azure keeps per VM: beyond 500 the cap, not the age,
 * would decide which points go. The points of this policy present at once are the slots of the closed window
 * [now - maxAgeDays, now] holding the most of them (lib/schedule `mostSlotsWithin`); with `count` set (at most
 * 500) the count bounds them. Cheap bound first: no window of W holds more than floor(W / shortest gap) + 1 slots.
 */
function checkPointCap(
  schedule: Schedule,
  retention: { readonly count?: number | undefined; readonly maxAgeDays?: number | undefined },
  path: readonly PropertyKey[],
  ctx: z.RefinementCtx,
): void {
  const { count, maxAgeDays } = retention;
  if (count !== undefined || maxAgeDays === undefined) return;
  if ('cron' in schedule && nextSlotAfter(schedule, CADENCE_HORIZON.fromMs) === undefined) return;
  const gapMs = closestSlots(schedule).gapMs;
  // Denser than any mode's minimum interval: refused as such (minimum-interval), and too dense to count.
  if (gapMs < MINIMUM_INTERVAL_HOURS.CrashConsistent * HOUR_MS) return;
  const windowMs = maxAgeDays * DAY_MS;
  if (Math.floor(windowMs / gapMs) + 1 <= MAX_RESTORE_POINTS_PER_VM) return;
  const kept = mostSlotsWithin(schedule, windowMs);
  if (kept <= MAX_RESTORE_POINTS_PER_VM) return;
  const fits = Math.ceil(shortestSpanOf(schedule, MAX_RESTORE_POINTS_PER_VM + 1) / DAY_MS) - 1;
  const countField = formatPath([...path, 'count']);
  const instead =
    fits >= 1
      ? `set maxAgeDays to at most ${fits} (the largest age that fits), or set ${countField}`
      : `set ${countField}`;
  issue(
    ctx,
    [...path, 'maxAgeDays'],
    'exceeds-point-cap',
    `keeps up to ${kept} restore points at this schedule, more than the ${MAX_RESTORE_POINTS_PER_VM} Azure keeps per VM ` +
      `(the cap, not the age, would decide which points go): ${instead}`,
  );
}

function checkSelectorInScope(policy: PolicyShape, ctx: z.RefinementCtx): void {
  const subscriptions = new Set(policy.scope.subscriptionIds);
  const groups = policy.scope.resourceGroups?.map((g) => g.toLowerCase());
  const check = (ids: readonly string[] | undefined, key: 'vmIds' | 'vmSetIds'): void => {
    ids?.forEach((id, index) => {
      const parsed = checkArmId(id);
      if (!parsed.ok) return;
      if (!subscriptions.has(parsed.value.subscriptionId)) {
        issue(
          ctx,
          ['selector', key, index],
          'outside-scope',
          'is in a subscription that scope.subscriptionIds does not list',
        );
      } else if (groups && !groups.includes(parsed.value.resourceGroup.toLowerCase())) {
        issue(
          ctx,
          ['selector', key, index],
          'outside-scope',
          'is in a resource group that scope.resourceGroups does not list',
        );
      }
    });
  };
  check(policy.selector.vmIds, 'vmIds');
  check(policy.selector.vmSetIds, 'vmSetIds');
}

type PolicyField = keyof PolicyShape;

/**
 * The checks that relate fields to each other. They run even when other fields are wrong, so that an
 * operator sees every problem at once, but each only when the fields it reads are valid themselves
 * (an invalid field is still raw input, not the type it claims to be).
 */
function checkAcrossFields(policy: PolicyShape, ctx: z.RefinementCtx<PolicyShape>): void {
  const broken = new Set(ctx.issues.map((i) => i.path?.[0]));
  const valid = (...fields: PolicyField[]): boolean => fields.every((f) => !broken.has(f) && policy[f] !== undefined);
  if (valid('schedule', 'consistencyMode', 'startWindowMinutes')) checkCadence(policy, ctx);
  if (valid('scope', 'selector')) checkSelectorInScope(policy, ctx);
  if (valid('schedule', 'retention')) checkPointCap(policy.schedule, policy.retention, ['retention'], ctx);
  if (valid('schedule', 'copies')) {
    policy.copies.forEach((copy, index) => {
      if (copy.retention !== undefined) {
        checkPointCap(policy.schedule, copy.retention, ['copies', index, 'retention'], ctx);
      }
    });
  }
  if (valid('fallbackToCrashConsistent', 'consistencyMode')) {
    if (policy.fallbackToCrashConsistent && policy.consistencyMode === 'CrashConsistent') {
      issue(
        ctx,
        ['fallbackToCrashConsistent'],
        'fallback-needs-app-consistent',
        'only applies to ApplicationConsistent policies (a crash-consistent policy has nothing to fall back from)',
      );
    }
  }
  if (valid('instantAccess', 'consistencyMode') && policy.consistencyMode !== 'ApplicationConsistent') {
    issue(
      ctx,
      ['instantAccess'],
      'instant-access-needs-app-consistent',
      'requires consistencyMode ApplicationConsistent (Azure offers instant access for application-consistent points only)',
    );
  }
}

const isPlainObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The policy schema: field checks, then the checks that relate fields to each other. */
export const policySchema = policyObject.superRefine(checkAcrossFields, {
  when: (payload) => isPlainObject(payload.value),
});

/** A valid policy, defaults applied: `enabled`, `consistencyMode`, `startWindowMinutes`, `excludeDisks`, `copies`. */
export type Policy = z.output<typeof policySchema>;

/** Parses and checks a policy, or throws a ValidationError listing every problem with its field and rule. */
export function parsePolicy(input: unknown): Policy {
  return parseWith(policySchema, input, 'policy');
}

/**
 * Copy targets that are wrong for one VM: a copy to the VM's own region is refused (Azure copies
 * restore points across regions only, and it would protect nothing). Returns the issues so that a
 * planner can record them per VM; {@link checkCopyTargets} throws them.
 */
export function copyTargetIssues(policy: Pick<Policy, 'copies'>, sourceRegion: string): ValidationIssue[] {
  const source = regionKey(sourceRegion);
  return policy.copies.flatMap((copy, index) =>
    regionKey(copy.targetRegion) === source
      ? [
          {
            field: `copies[${index}].targetRegion`,
            rule: 'same-region-copy',
            message: `is the VM's own region (${source}): a copy must go to another region`,
          },
        ]
      : [],
  );
}

/** Throws a ValidationError when a policy copies to the VM's own region (checked at plan time, per VM). */
export function checkCopyTargets(policy: Pick<Policy, 'copies'>, sourceRegion: string): void {
  const issues = copyTargetIssues(policy, sourceRegion);
  if (issues.length > 0) throw new ValidationError('policy', issues);
}
