import { describe, expect, it } from 'vitest';
import { isAzureBoostSize, parseVmSize, supportsPremiumStorage } from '../../../lib/consistency/vmSize';

describe('parseVmSize', () => {
  it.each([
    ['Standard_D2s_v6', { family: 'D', features: 's', version: 6 }],
    ['Standard_E96-24ads_v6', { family: 'E', features: 'ads', version: 6 }],
    ['Standard_NC24ads_A100_v4', { family: 'NC', features: 'ads', version: 4 }],
    ['Standard_F2alds_v7', { family: 'F', features: 'alds', version: 7 }],
    ['Standard_DC2as_v5', { family: 'DC', features: 'as', version: 5 }],
    ['Standard_DS2_v2', { family: 'DS', features: '', version: 2 }],
    ['Standard_B1s', { family: 'B', features: 's', version: 1 }],
    ['Basic_A0', { family: 'A', features: '', version: 1 }],
    ['standard_d4s_v6', { family: 'D', features: 's', version: 6 }],
  ])('reads %s', (size, parts) => {
    expect(parseVmSize(size)).toEqual(parts);
  });

  it('answers undefined for names that do not follow the convention', () => {
    expect(parseVmSize('D2s_v6')).toBeUndefined();
    expect(parseVmSize('Standard_')).toBeUndefined();
    expect(parseVmSize(undefined)).toBeUndefined();
  });
});

describe('isAzureBoostSize', () => {
  it.each([
    ['Standard_D4s_v6', true],
    ['Standard_E8ds_v6', true],
    ['Standard_E8s_v6', true],
    ['Standard_D4as_v7', true],
    ['Standard_E4as_v7', true],
    ['Standard_F2alds_v7', true],
    ['Standard_D4as_v6', false],
    ['Standard_D4ps_v6', false],
    ['Standard_D4s_v5', false],
    ['Standard_DS2_v2', false],
    ['Custom_Size', false],
  ])('%s → %s', (size, expected) => {
    expect(isAzureBoostSize(size)).toBe(expected);
  });
});

describe('supportsPremiumStorage', () => {
  it.each([
    ['Standard_D4s_v5', true],
    ['Standard_DS3_v2', true],
    ['Standard_GS5', true],
    ['Standard_D4_v3', false],
    ['Standard_A2_v2', false],
    ['not-a-size', undefined],
  ])('%s → %s', (size, expected) => {
    expect(supportsPremiumStorage(size)).toBe(expected);
  });
});
