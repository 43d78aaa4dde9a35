import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCopyTargets, copyTargetIssues, parsePolicy, regionKey } from '../../lib/policy';
import { MAX_RESTORE_POINTS_PER_VM } from '../../lib/retention';
import { mostSlotsWithin, type Schedule } from '../../lib/schedule';
import { ValidationError } from '../../lib/validation';

const SUB = '11111111-2222-3333-4444-555555555555';
const OTHER_SUB = '99999999-2222-3333-4444-555555555555';
const vmId = (name: string, rg = 'rg-app', sub = SUB): string =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

/** A valid policy; each case below breaks exactly one rule. */
const base = {
  name: 'daily-app',
  scope: { subscriptionIds: [SUB] },
  selector: { tags: { backup: 'daily' } },
  schedule: { everyHours: 4 },
  retention: { count: 7 },
};
type Input = Record<string, unknown>;
const withFields = (fields: Input): Input => ({ ...base, ...fields });

function validationErrorOf(input: unknown): ValidationError {
  try {
    parsePolicy(input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected parsePolicy to throw a ValidationError');
}

/** Asserts that the error names `field` with `rule`, both in `issues` and in the message an operator reads. */
function expectIssue(error: ValidationError, field: string, ruleName: string, words?: string): void {
  expect(error.issues).toContainEqual(expect.objectContaining({ field, rule: ruleName }));
  const label = field === '' ? 'policy' : `policy.${field}`;
  const line = error.message.split('\n').find((l) => l.includes(`${label}: `) && l.endsWith(`[${ruleName}]`));
  expect(line, `message should name ${label} and [${ruleName}]:\n${error.message}`).toBeDefined();
  if (words !== undefined) expect(line).toContain(words);
}

describe('parsePolicy', () => {
  it('accepts a minimal policy and applies the defaults', () => {
    expect(parsePolicy(base)).toEqual({
      name: 'daily-app',
      enabled: true,
      scope: { subscriptionIds: [SUB] },
      selector: { tags: { backup: 'daily' } },
      consistencyMode: 'ApplicationConsistent',
      fallbackToCrashConsistent: false,
      schedule: { everyHours: 4 },
      startWindowMinutes: 60,
      retention: { count: 7 },
      excludeDisks: { luns: [], names: [] },
      copies: [],
    });
  });

  it('parses a stored (already parsed) policy to itself, so policies survive a round trip through RpoPolicies', () => {
    const once = parsePolicy({
      ...base,
      scope: { subscriptionIds: [SUB.toUpperCase()] },
      schedule: { cron: '0 0 2 * * Mon-Fri', timeZone: 'America/New_York' },
      copies: [{ targetRegion: 'East US 2', targetResourceGroup: 'rg-dr' }],
    });
    expect(parsePolicy(JSON.parse(JSON.stringify(once)))).toEqual(once);
    const cronInUtc = parsePolicy(withFields({ schedule: { cron: '0 0 2 * * *' } }));
    expect(parsePolicy(JSON.parse(JSON.stringify(cronInUtc)))).toEqual(cronInUtc);
  });

  it('gives every parsed policy its own default lists', () => {
    const first = parsePolicy(base);
    first.excludeDisks.luns.push(1);
    first.copies.push({ targetRegion: 'northeurope', targetResourceGroup: 'rg' });
    const second = parsePolicy(base);
    expect(second.excludeDisks).toEqual({ luns: [], names: [] });
    expect(second.copies).toEqual([]);
  });

  it('accepts every field at once and normalises regions, subscription ids and the cron time zone', () => {
    const policy = parsePolicy({
      name: 'full',
      enabled: false,
      scope: { subscriptionIds: [SUB.toUpperCase()], resourceGroups: ['rg-app', 'RG_(data).1'] },
      selector: {
        tags: { env: 'prod' },
        vmIds: [
          vmId('vm1').replace('Microsoft.Compute', 'microsoft.compute').replace('resourceGroups', 'resourcegroups'),
        ],
        vmSetIds: [
          `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/availabilitySets/as1`,
          `/subscriptions/${SUB}/resourceGroups/RG_(data).1/providers/Microsoft.Compute/virtualMachineScaleSets/flex1`,
        ],
      },
      consistencyMode: 'ApplicationConsistent',
      fallbackToCrashConsistent: true,
      schedule: { cron: '0 30 1 * * *' },
      startWindowMinutes: 120,
      retention: { count: 30, maxAgeDays: 35 },
      excludeDisks: { luns: [0, 63], names: ['scratch-disk_1'] },
      copies: [{ targetRegion: 'North Europe', targetResourceGroup: 'rg-dr', retention: { maxAgeDays: 7 } }],
      instantAccess: { durationMinutes: 120 },
    });
    expect(policy.scope.subscriptionIds).toEqual([SUB]);
    expect(policy.schedule).toEqual({ cron: '0 30 1 * * *', timeZone: 'UTC' });
    expect(policy.copies).toEqual([
      { targetRegion: 'northeurope', targetResourceGroup: 'rg-dr', retention: { maxAgeDays: 7 } },
    ]);
    expect(policy.instantAccess).toEqual({ durationMinutes: 120 });
  });

  it('accepts instantAccess together with fallbackToCrashConsistent (the crash-consistent fallback goes without it)', () => {
    const policy = parsePolicy(withFields({ fallbackToCrashConsistent: true, instantAccess: { durationMinutes: 60 } }));
    expect(policy).toMatchObject({
      consistencyMode: 'ApplicationConsistent',
      fallbackToCrashConsistent: true,
      instantAccess: { durationMinutes: 60 },
    });
  });

  it('accepts schedules right at the minimum interval of each mode', () => {
    expect(() => parsePolicy(withFields({ schedule: { everyHours: 3 } }))).not.toThrow();
    expect(() =>
      parsePolicy(withFields({ consistencyMode: 'CrashConsistent', schedule: { everyHours: 1 } })),
    ).not.toThrow();
    expect(() => parsePolicy(withFields({ schedule: { cron: '0 0 */3 * * *' } }))).not.toThrow();
    expect(() =>
      parsePolicy(withFields({ schedule: { cron: '0 0 2 * * *', timeZone: 'Europe/Berlin' } })),
    ).not.toThrow();
  });

  const cases: [string, unknown, string, string, string?][] = [
    // [behaviour, input, field, rule, words in the message]
    ['a name with capitals', withFields({ name: 'Daily' }), 'name', 'name-format', 'a-z, 0-9 and "-"'],
    ['a name of 41 characters', withFields({ name: 'a'.repeat(41) }), 'name', 'name-format'],
    ['the reserved name ondemand', withFields({ name: 'ondemand' }), 'name', 'reserved-name'],
    ['a missing name', { ...base, name: undefined }, 'name', 'required', 'is required'],
    ['a misspelt top-level field', withFields({ schedul: { everyHours: 4 } }), 'schedul', 'unknown-field'],
    [
      'a misspelt nested field',
      withFields({ retention: { count: 7, maxAgedays: 3 } }),
      'retention.maxAgedays',
      'unknown-field',
    ],
    ['enabled given as a string', withFields({ enabled: 'yes' }), 'enabled', 'type', 'true or false'],
    ['no subscription', withFields({ scope: { subscriptionIds: [] } }), 'scope.subscriptionIds', 'min-length'],
    [
      'a subscription id that is not a GUID',
      withFields({ scope: { subscriptionIds: ['prod'] } }),
      'scope.subscriptionIds[0]',
      'guid',
    ],
    [
      'the same subscription twice',
      withFields({ scope: { subscriptionIds: [SUB, SUB.toUpperCase()] } }),
      'scope.subscriptionIds[1]',
      'duplicate',
    ],
    [
      'a resource group ending with a period',
      withFields({ scope: { subscriptionIds: [SUB], resourceGroups: ['rg.'] } }),
      'scope.resourceGroups[0]',
      'resource-group-name',
    ],
    [
      'a resource group of 91 characters',
      withFields({ scope: { subscriptionIds: [SUB], resourceGroups: ['r'.repeat(91)] } }),
      'scope.resourceGroups[0]',
      'resource-group-name',
    ],
    ['a missing selector', { ...base, selector: undefined }, 'selector', 'required'],
    ['a tag name with a slash', withFields({ selector: { tags: { 'a/b': 'x' } } }), 'selector.tags["a/b"]', 'tag-name'],
    [
      'a tag value over 256 characters',
      withFields({ selector: { tags: { env: 'x'.repeat(257) } } }),
      'selector.tags.env',
      'max-length',
    ],
    [
      'a disk id among the VM ids',
      withFields({ selector: { vmIds: [vmId('vm1').replace('virtualMachines', 'disks')] } }),
      'selector.vmIds[0]',
      'arm-id-type',
      'Microsoft.Compute/virtualMachines',
    ],
    [
      'a VM id whose subscription is not a GUID',
      withFields({ selector: { vmIds: [vmId('vm1', 'rg', 'prod')] } }),
      'selector.vmIds[0]',
      'arm-id-subscription',
    ],
    [
      'a VM id of another provider',
      withFields({ selector: { vmIds: [vmId('vm1').replace('Microsoft.Compute', 'Microsoft.ClassicCompute')] } }),
      'selector.vmIds[0]',
      'arm-id-provider',
    ],
    [
      'the same VM twice in other case',
      withFields({ selector: { vmIds: [vmId('vm1'), vmId('VM1')] } }),
      'selector.vmIds[1]',
      'duplicate',
    ],
    [
      'a VM outside the subscriptions in scope',
      withFields({ selector: { vmIds: [vmId('vm1', 'rg-app', OTHER_SUB)] } }),
      'selector.vmIds[0]',
      'outside-scope',
      'scope.subscriptionIds',
    ],
    [
      'a VM outside the resource groups in scope',
      withFields({
        scope: { subscriptionIds: [SUB], resourceGroups: ['rg-web'] },
        selector: { vmIds: [vmId('vm1', 'rg-app')] },
      }),
      'selector.vmIds[0]',
      'outside-scope',
      'scope.resourceGroups',
    ],
    [
      'a VM id among the set ids',
      withFields({ selector: { vmSetIds: [vmId('vm1')] } }),
      'selector.vmSetIds[0]',
      'arm-id-type',
      'availabilitySets',
    ],
    [
      'an unknown consistency mode',
      withFields({ consistencyMode: 'Crash' }),
      'consistencyMode',
      'allowed-values',
      '"CrashConsistent"',
    ],
    [
      'fallback on a crash-consistent policy',
      withFields({ consistencyMode: 'CrashConsistent', fallbackToCrashConsistent: true }),
      'fallbackToCrashConsistent',
      'fallback-needs-app-consistent',
    ],
    ['an empty schedule', withFields({ schedule: {} }), 'schedule', 'schedule-kind', 'either everyHours or cron'],
    [
      'both everyHours and cron',
      withFields({ schedule: { everyHours: 4, cron: '0 0 */4 * * *' } }),
      'schedule',
      'schedule-kind',
    ],
    [
      'every 2 hours application-consistent',
      withFields({ schedule: { everyHours: 2 } }),
      'schedule.everyHours',
      'minimum-interval',
      "must be at least 3 hours for ApplicationConsistent (Azure's minimum interval between application-consistent restore points)",
    ],
    [
      'every 0 hours crash-consistent',
      withFields({ consistencyMode: 'CrashConsistent', schedule: { everyHours: 0 } }),
      'schedule.everyHours',
      'minimum',
      'at least 1 hour',
    ],
    ['a fractional everyHours', withFields({ schedule: { everyHours: 4.5 } }), 'schedule.everyHours', 'integer'],
    ['everyHours over a year', withFields({ schedule: { everyHours: 8761 } }), 'schedule.everyHours', 'maximum'],
    [
      'a 5-field cron',
      withFields({ schedule: { cron: '0 */4 * * *' } }),
      'schedule.cron',
      'ncrontab',
      "write '0 0 */4 * * *'",
    ],
    [
      'a cron hour of 24',
      withFields({ schedule: { cron: '0 0 24 * * *' } }),
      'schedule.cron',
      'ncrontab',
      'hour value 24 is outside 0-23',
    ],
    [
      'a Quartz L in the cron',
      withFields({ schedule: { cron: '0 0 0 L * *' } }),
      'schedule.cron',
      'ncrontab',
      'no L, W, # or ?',
    ],
    [
      'a cron every 2 hours application-consistent',
      withFields({ schedule: { cron: '0 0 */2 * * *' } }),
      'schedule.cron',
      'minimum-interval',
      'fires 2 hours apart',
    ],
    [
      'a cron every 30 minutes crash-consistent',
      withFields({ consistencyMode: 'CrashConsistent', schedule: { cron: '0 */30 * * * *' } }),
      'schedule.cron',
      'minimum-interval',
      'fires 30 minutes apart',
    ],
    [
      'a 3-hourly Berlin cron that DST squeezes to 2 hours',
      withFields({ schedule: { cron: '0 0 */3 * * *', timeZone: 'Europe/Berlin' } }),
      'schedule.cron',
      'minimum-interval',
      'across a DST change',
    ],
    [
      'a New York cron at 1:00 and 3:00 that DST squeezes to 1 hour',
      withFields({ schedule: { cron: '0 0 1,3 * * *', timeZone: 'America/New_York' } }),
      'schedule.cron',
      'minimum-interval',
      'fires 1 hour apart',
    ],
    ['a cron with seconds', withFields({ schedule: { cron: '30 0 */4 * * *' } }), 'schedule.cron', 'whole-minute'],
    ['a cron that never fires', withFields({ schedule: { cron: '0 0 0 30 2 *' } }), 'schedule.cron', 'never-fires'],
    [
      'an unknown time zone',
      withFields({ schedule: { cron: '0 0 2 * * *', timeZone: 'Mars/Olympus' } }),
      'schedule.timeZone',
      'time-zone',
      'IANA',
    ],
    [
      'an offset instead of a time zone',
      withFields({ schedule: { cron: '0 0 2 * * *', timeZone: '+01:00' } }),
      'schedule.timeZone',
      'time-zone',
    ],
    [
      'a Windows time zone name',
      withFields({ schedule: { cron: '0 0 2 * * *', timeZone: 'W. Europe Standard Time' } }),
      'schedule.timeZone',
      'time-zone',
    ],
    [
      'a time zone on an everyHours schedule',
      withFields({ schedule: { everyHours: 4, timeZone: 'Europe/Berlin' } }),
      'schedule.timeZone',
      'time-zone-needs-cron',
    ],
    [
      'a start window under 5 minutes',
      withFields({ startWindowMinutes: 4 }),
      'startWindowMinutes',
      'minimum',
      'at least 5',
    ],
    [
      'a start window longer than the interval',
      withFields({ startWindowMinutes: 241 }),
      'startWindowMinutes',
      'start-window',
      '4 hours',
    ],
    [
      'a daily Berlin window of 24 h (DST makes one day 23 h)',
      withFields({ schedule: { cron: '0 0 2 * * *', timeZone: 'Europe/Berlin' }, startWindowMinutes: 1440 }),
      'startWindowMinutes',
      'start-window',
      '23 hours',
    ],
    ['a retention with no limit', withFields({ retention: {} }), 'retention', 'retention-limit'],
    ['a missing retention', { ...base, retention: undefined }, 'retention', 'required'],
    ['a retention count of 0', withFields({ retention: { count: 0 } }), 'retention.count', 'minimum'],
    [
      'a retention count over the per-VM cap',
      withFields({ retention: { count: 501 } }),
      'retention.count',
      'maximum',
      '500 restore points per VM',
    ],
    ['a retention age of 0 days', withFields({ retention: { maxAgeDays: 0 } }), 'retention.maxAgeDays', 'minimum'],
    [
      'a retention age over ten years',
      withFields({ retention: { maxAgeDays: 3651 } }),
      'retention.maxAgeDays',
      'maximum',
    ],
    ['a LUN of 64', withFields({ excludeDisks: { luns: [64] } }), 'excludeDisks.luns[0]', 'maximum', 'at most 63'],
    ['a negative LUN', withFields({ excludeDisks: { luns: [-1] } }), 'excludeDisks.luns[0]', 'minimum'],
    ['a fractional LUN', withFields({ excludeDisks: { luns: [1.5] } }), 'excludeDisks.luns[0]', 'integer'],
    ['the same LUN twice', withFields({ excludeDisks: { luns: [2, 2] } }), 'excludeDisks.luns[1]', 'duplicate'],
    [
      'a disk name with a space',
      withFields({ excludeDisks: { names: ['data disk'] } }),
      'excludeDisks.names[0]',
      'disk-name',
    ],
    [
      'two copies to one region spelt differently',
      withFields({
        copies: [
          { targetRegion: 'West Europe', targetResourceGroup: 'rg-dr' },
          { targetRegion: 'westeurope', targetResourceGroup: 'rg-dr2' },
        ],
      }),
      'copies[1].targetRegion',
      'duplicate-region',
      'westeurope',
    ],
    [
      'a copy region with punctuation',
      withFields({ copies: [{ targetRegion: 'west-europe', targetResourceGroup: 'rg-dr' }] }),
      'copies[0].targetRegion',
      'region-name',
    ],
    [
      'a copy resource group with a slash',
      withFields({ copies: [{ targetRegion: 'northeurope', targetResourceGroup: 'rg/dr' }] }),
      'copies[0].targetResourceGroup',
      'resource-group-name',
    ],
    [
      'a copy without a resource group',
      withFields({ copies: [{ targetRegion: 'northeurope' }] }),
      'copies[0].targetResourceGroup',
      'required',
    ],
    [
      'a copy retention with no limit',
      withFields({ copies: [{ targetRegion: 'northeurope', targetResourceGroup: 'rg-dr', retention: {} }] }),
      'copies[0].retention',
      'retention-limit',
    ],
    [
      'a misspelt copy field',
      withFields({ copies: [{ targetRegion: 'northeurope', targetResourceGroup: 'rg-dr', targetRegoin: 'x' }] }),
      'copies[0].targetRegoin',
      'unknown-field',
    ],
    [
      'instant access under 60 minutes',
      withFields({ instantAccess: { durationMinutes: 59 } }),
      'instantAccess.durationMinutes',
      'minimum',
      'at least 60',
    ],
    [
      'instant access over 300 minutes',
      withFields({ instantAccess: { durationMinutes: 301 } }),
      'instantAccess.durationMinutes',
      'maximum',
      'at most 300',
    ],
    [
      'instant access on a crash-consistent policy',
      withFields({
        consistencyMode: 'CrashConsistent',
        schedule: { everyHours: 1 },
        instantAccess: { durationMinutes: 60 },
      }),
      'instantAccess',
      'instant-access-needs-app-consistent',
    ],
    [
      'a maxAgeDays that keeps more than 500 points at the schedule',
      withFields({ schedule: { everyHours: 3 }, retention: { maxAgeDays: 63 } }),
      'retention.maxAgeDays',
      'exceeds-point-cap',
      'keeps up to 505 restore points at this schedule',
    ],
    [
      'a copy maxAgeDays that keeps more than 500 points at the schedule',
      withFields({
        copies: [{ targetRegion: 'northeurope', targetResourceGroup: 'rg-dr', retention: { maxAgeDays: 100 } }],
      }),
      'copies[0].retention.maxAgeDays',
      'exceeds-point-cap',
      'set maxAgeDays to at most 83 (the largest age that fits), or set copies[0].retention.count',
    ],
    ['something that is not an object', 'daily', '', 'type', 'must be an object'],
  ];

  it.each(cases)('refuses %s, naming the field and the rule', (_behaviour, input, field, ruleName, words) => {
    expectIssue(validationErrorOf(input), field, ruleName, words);
  });

  it('reports every problem of a policy at once, cross-field ones included', () => {
    const error = validationErrorOf({
      ...base,
      name: 'Bad Name',
      consistencyMode: 'CrashConsistent',
      fallbackToCrashConsistent: true,
      schedule: { everyHours: 4 },
      startWindowMinutes: 600,
      retention: {},
      colour: 'blue',
    });
    expect(error.issues.map((i) => `${i.field} ${i.rule}`).sort()).toEqual([
      'colour unknown-field',
      'fallbackToCrashConsistent fallback-needs-app-consistent',
      'name name-format',
      'retention retention-limit',
      'startWindowMinutes start-window',
    ]);
    expect(error.message).toMatch(/^invalid policy \(5 problems\):\n- policy\./);
  });

  it('skips a cross-field check whose inputs are themselves invalid instead of reporting nonsense', () => {
    const error = validationErrorOf(withFields({ schedule: { everyHours: 'often' }, startWindowMinutes: 600 }));
    expect(error.issues).toEqual([expect.objectContaining({ field: 'schedule.everyHours', rule: 'type' })]);
  });
});

describe('checkCopyTargets', () => {
  const policy = parsePolicy(
    withFields({
      copies: [
        { targetRegion: 'northeurope', targetResourceGroup: 'rg-dr' },
        { targetRegion: 'West Europe', targetResourceGroup: 'rg-dr' },
      ],
    }),
  );

  it('refuses a copy to the VM’s own region, naming copies[i].targetRegion, whatever the spelling', () => {
    expect(() => checkCopyTargets(policy, 'West Europe')).toThrow(ValidationError);
    expect(copyTargetIssues(policy, 'WESTEUROPE')).toEqual([
      {
        field: 'copies[1].targetRegion',
        rule: 'same-region-copy',
        message: "is the VM's own region (westeurope): a copy must go to another region",
      },
    ]);
    expect(() => checkCopyTargets(policy, 'westeurope')).toThrow(
      "invalid policy: policy.copies[1].targetRegion: is the VM's own region (westeurope): a copy must go to another region [same-region-copy]",
    );
  });

  it('accepts copies to other regions', () => {
    expect(() => checkCopyTargets(policy, 'eastus2')).not.toThrow();
  });
});

describe('regionKey', () => {
  it('makes display names and ARM names of a region equal', () => {
    expect(regionKey('West Europe')).toBe('westeurope');
    expect(regionKey(' East US 2 ')).toBe('eastus2');
  });
});

describe("parsePolicy: retention within Azure's 500 points per VM", () => {
  const DAY = 86_400_000;
  const ageOnly = (schedule: Schedule, maxAgeDays: number, extra: Input = {}): Input =>
    withFields({ schedule, retention: { maxAgeDays }, ...extra });

  it('refuses an age that keeps more points than the cap, naming the count and the largest age that fits', () => {
    const error = validationErrorOf(ageOnly({ everyHours: 3 }, 63));
    expect(error.issues).toEqual([
      {
        field: 'retention.maxAgeDays',
        rule: 'exceeds-point-cap',
        message:
          'keeps up to 505 restore points at this schedule, more than the 500 Azure keeps per VM ' +
          '(the cap, not the age, would decide which points go): set maxAgeDays to at most 62 (the largest age that fits), or set retention.count',
      },
    ]);
    expect(() => parsePolicy(ageOnly({ everyHours: 3 }, 62))).not.toThrow();
  });

  it('accepts any age when retention.count bounds the points (count is at most 500)', () => {
    const crash = { consistencyMode: 'CrashConsistent' };
    expect(() =>
      parsePolicy(withFields({ ...crash, schedule: { everyHours: 1 }, retention: { count: 500, maxAgeDays: 3650 } })),
    ).not.toThrow();
    expect(validationErrorOf(ageOnly({ everyHours: 1 }, 21, crash)).issues).toEqual([
      expect.objectContaining({ rule: 'exceeds-point-cap', message: expect.stringContaining('at most 20 ') }),
    ]);
  });

  it('counts a cron on real instants, DST included: daily in Berlin fits 499 days, not 500', () => {
    const daily: Schedule = { cron: '0 30 2 * * *', timeZone: 'Europe/Berlin' };
    expect(() => parsePolicy(ageOnly(daily, 499))).not.toThrow();
    expectIssue(
      validationErrorOf(ageOnly(daily, 500)),
      'retention.maxAgeDays',
      'exceeds-point-cap',
      'keeps up to 501 restore points at this schedule',
    );
    expectIssue(validationErrorOf(ageOnly(daily, 3650)), 'retention.maxAgeDays', 'exceeds-point-cap', 'at most 499 ');
    expect(() => parsePolicy(ageOnly({ cron: '0 0 2 1 * *' }, 3650))).not.toThrow();
  });

  it('refuses an age exactly when it keeps more than 500 points, and its suggestion is the largest age that fits', () => {
    const schedules = fc.constantFrom<Schedule>(
      { everyHours: 3 },
      { everyHours: 4 },
      { everyHours: 7 },
      { everyHours: 24 },
      { cron: '0 0 2 * * *', timeZone: 'Europe/Berlin' },
      { cron: '0 0 1,5,8,11,14,17,20 * * *', timeZone: 'Europe/Berlin' },
      { cron: '0 15 */6 * * Mon-Fri', timeZone: 'America/New_York' },
      { cron: '0 0 0 * * Sun', timeZone: 'UTC' },
      { cron: '0 45 */4 1-15 * *', timeZone: 'Australia/Lord_Howe' },
    );
    fc.assert(
      fc.property(schedules, fc.integer({ min: 1, max: 3650 }), (schedule, maxAgeDays) => {
        const kept = mostSlotsWithin(schedule, maxAgeDays * DAY);
        let error: ValidationError | undefined;
        try {
          parsePolicy(ageOnly(schedule, maxAgeDays));
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
          error = e;
        }
        const capIssue = error?.issues.find((i) => i.rule === 'exceeds-point-cap');
        expect(error?.issues.filter((i) => i.rule !== 'exceeds-point-cap') ?? []).toEqual([]);
        expect(capIssue !== undefined).toBe(kept > MAX_RESTORE_POINTS_PER_VM);
        if (capIssue === undefined) return;
        expect(capIssue.message).toContain(`keeps up to ${kept} restore points`);
        const fits = Number(/at most (\d+) /.exec(capIssue.message)?.[1]);
        expect(mostSlotsWithin(schedule, fits * DAY)).toBeLessThanOrEqual(MAX_RESTORE_POINTS_PER_VM);
        expect(mostSlotsWithin(schedule, (fits + 1) * DAY)).toBeGreaterThan(MAX_RESTORE_POINTS_PER_VM);
        expect(() => parsePolicy(ageOnly(schedule, fits))).not.toThrow();
      }),
      { numRuns: 150 },
    );
  });
});
