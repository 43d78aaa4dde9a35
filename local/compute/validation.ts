import {
  ArmError,
  invalidParameter,
  invalidRequestFormat,
  invalidResourceName,
  provisioningStateMismatch,
} from './armErrors';
import { intern, isValidResourceName } from './armIds';
import type { JsonObject } from './store';

/**
 * Reads request bodies field by field. A wrongly typed field is CRP's 400 InvalidRequestFormat
 * naming the field; a missing required one is 400 InvalidParameter naming it.
 */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectBody(body: unknown): JsonObject {
  if (body === undefined) throw invalidParameter('body', 'The request body is required for this operation.');
  if (!isObject(body)) throw invalidRequestFormat('body', 'expected a JSON object');
  return body;
}

export function optionalObject(parent: JsonObject, field: string, path: string): JsonObject | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidRequestFormat(path, 'expected a JSON object');
  return value;
}

export function optionalString(parent: JsonObject, field: string, path: string): string | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidRequestFormat(path, `expected a string, got ${typeof value}`);
  return value;
}

export function requiredString(parent: JsonObject, field: string, path: string): string {
  const value = optionalString(parent, field, path);
  if (value === undefined || value === '') {
    throw invalidParameter(path, `Required parameter '${path}' is missing (null).`);
  }
  return value;
}

export function optionalBoolean(parent: JsonObject, field: string, path: string): boolean | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidRequestFormat(path, `expected a boolean, got ${typeof value}`);
  return value;
}

export function optionalInteger(parent: JsonObject, field: string, path: string): number | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidRequestFormat(path, `expected an integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function optionalArray(parent: JsonObject, field: string, path: string): unknown[] | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidRequestFormat(path, 'expected an array');
  return value as unknown[];
}

export function optionalEnum<T extends string>(
  parent: JsonObject,
  field: string,
  path: string,
  allowed: readonly T[],
): T | undefined {
  const value = optionalString(parent, field, path);
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!found) {
    throw invalidParameter(
      path,
      `The value '${value}' of parameter '${path}' is invalid. Allowed values: ${allowed.join(', ')}.`,
    );
  }
  return found;
}

export function tagsOf(body: JsonObject): Record<string, string> | undefined {
  const tags = optionalObject(body, 'tags', 'tags');
  if (!tags) return undefined;
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== 'string') throw invalidRequestFormat(`tags.${key}`, 'expected a string');
    if (key.length > 512 || value.length > 256) {
      throw new ArmError(
        400,
        'InvalidTag',
        `The tag '${key}' is invalid: names are at most 512 and values at most 256 characters.`,
      );
    }
  }
  return tags as Record<string, string>;
}

export function requiredLocation(body: JsonObject): string {
  const location = optionalString(body, 'location', 'location');
  if (location === undefined || location === '') {
    throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  }
  return intern(location);
}

export function checkName(name: string, maxLength = 80): void {
  if (!isValidResourceName(name, maxLength)) throw invalidResourceName(name, maxLength);
}

/** ARM RPC: a PUT whose body carries a provisioningState different from the resource's → 400. */
export function checkProvisioningState(properties: JsonObject | undefined, current: string | undefined): void {
  const requested = properties?.provisioningState;
  if (requested === undefined || requested === null) return;
  if (typeof requested !== 'string') throw invalidRequestFormat('properties.provisioningState', 'expected a string');
  if (current === undefined || requested.toLowerCase() !== current.toLowerCase()) {
    throw provisioningStateMismatch(requested, current ?? 'NotCreated');
  }
}

/** `{ id }` references, e.g. excludeDisks. */
export function idReferences(parent: JsonObject, field: string, path: string): string[] {
  const list = optionalArray(parent, field, path) ?? [];
  return list.map((item, i) => {
    if (!isObject(item)) throw invalidRequestFormat(`${path}[${i}]`, 'expected an object { id }');
    return requiredString(item, 'id', `${path}[${i}].id`);
  });
}
