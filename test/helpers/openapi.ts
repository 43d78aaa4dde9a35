/**
 * The OpenAPI 2.0 (swagger) definitions and official examples in ../shared/azure-spec, for checking the
 * Compute emulator against Azure's published contract: `validateResponse(operationId, status, body)` runs a
 * response body through ajv against the operation's response schema, `specExamples()` lists every
 * x-ms-example with the operation it belongs to.
 *
 * Swagger is not JSON Schema, so the documents are adapted once on load:
 * - every `$ref` (local `#/definitions/X`, sibling `./computeRPCommon.json#/...`, cross-folder
 *   `../../../common-types/v1/common.json#/...`) is rewritten to an absolute `file://` URI, so any
 *   sub-schema can be compiled on its own and ajv finds the target among the added documents;
 * - a `$ref` into a file that is not in the folder (e.g. `./virtualMachine.json`, too large to copy)
 *   becomes `{}` (anything goes) and is listed by `unresolvedReferences()`;
 * - `x-nullable: true` widens `type` with `null`;
 * - enums stay strict (a typo like `Crashconsistent` is a bug even where `modelAsString` makes the enum
 *   extensible for clients), except those listed in EXTENSIBLE_ENUMS, whose lists Azure itself outgrew;
 * - `x-ms-*` keywords stay in place: ajv runs with `strict: false` and ignores them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** The shared folder sits beside the repository (locally and on CI). */
export const AZURE_SPEC_DIR = process.env.RPO_AZURE_SPEC_DIR ?? path.resolve(__dirname, '../../../shared/azure-spec');

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

export interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'body' | 'formData';
  required: boolean;
}

export interface SpecOperation {
  operationId: string;
  method: HttpMethod;
  /** Path template as in the spec, e.g. `/subscriptions/{subscriptionId}/...`. */
  path: string;
  /** Spec document, relative to AZURE_SPEC_DIR. */
  specFile: string;
  apiVersion: string;
  parameters: SpecParameter[];
  /** Declared status codes, without `default`. */
  statusCodes: string[];
  hasDefaultResponse: boolean;
  longRunning: boolean;
  finalStateVia?: string;
}

export interface SpecExampleResponse {
  headers?: Record<string, string>;
  body?: unknown;
}

export interface SpecExample {
  /** Example file, relative to AZURE_SPEC_DIR. */
  file: string;
  title: string;
  operationId: string;
  parameters: Record<string, unknown>;
  responses: Record<string, SpecExampleResponse>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface LoadedSpec {
  ajv: Ajv;
  operations: Map<string, SpecOperation>;
  /** operationId → status code (or `default`) → rewritten response schema (undefined = no body). */
  responseSchemas: Map<string, Map<string, JsonObject | undefined>>;
  exampleOwners: Map<string, { operationId: string; title: string }>;
  unresolved: Set<string>;
  cloudErrorRef: string;
}

const METHODS: readonly HttpMethod[] = ['GET', 'PUT', 'PATCH', 'POST', 'DELETE'];

/**
 * Examples the copied specs do not reference (their operation lives in virtualMachine.json, which is
 * not copied), mapped to the operation by file name.
 */
const ORPHAN_EXAMPLE_OPERATIONS: Record<string, string> = {
  'VirtualMachine_Get.json': 'VirtualMachines_Get',
  'VirtualMachine_Get_InstanceView.json': 'VirtualMachines_InstanceView',
};

/**
 * `x-ms-enum` names whose value lists are known to be stale: VirtualMachineSizeTypes is "deprecated"
 * (its own description) and lacks every size newer than v3, e.g. Standard_D2s_v5.
 */
const EXTENSIBLE_ENUMS = new Set(['VirtualMachineSizeTypes']);

let loaded: LoadedSpec | undefined;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listJsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listJsonFiles(full));
    else if (entry.name.endsWith('.json')) out.push(full);
  }
  return out.sort();
}

function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

function fileUri(file: string): string {
  return pathToFileURL(file).href;
}

/** Deep copy of a swagger document with absolute `$ref`s and `x-nullable` folded into `type`. */
function adaptDocument(node: Json, file: string, unresolved: Set<string>): Json {
  if (Array.isArray(node)) return node.map((item) => adaptDocument(item, file, unresolved));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    const [target = '', fragment = ''] = ref.split('#');
    const targetFile = target === '' ? file : path.resolve(path.dirname(file), target);
    if (!existsSync(targetFile)) {
      unresolved.add(`${path.relative(AZURE_SPEC_DIR, file)}: ${ref}`);
      return {};
    }
    return { ...node, $ref: `${fileUri(targetFile)}#${fragment}` };
  }
  const copy: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // x-ms-examples point at example files (not schemas), many of which were not copied.
    copy[key] = key === 'x-ms-examples' ? exampleFiles(value, file) : adaptDocument(value, file, unresolved);
  }
  if (copy['x-nullable'] === true && typeof copy.type === 'string') copy.type = [copy.type, 'null'];
  const xEnum = copy['x-ms-enum'];
  if (isObject(xEnum) && typeof xEnum.name === 'string' && EXTENSIBLE_ENUMS.has(xEnum.name)) delete copy.enum;
  return copy;
}

/** `{title: {$ref: './examples/x.json'}}` → `{title: '/abs/path/examples/x.json'}`. */
function exampleFiles(node: Json, file: string): JsonObject {
  const out: JsonObject = {};
  if (!isObject(node)) return out;
  for (const [title, ref] of Object.entries(node)) {
    if (isObject(ref) && typeof ref.$ref === 'string') out[title] = path.resolve(path.dirname(file), ref.$ref);
  }
  return out;
}

function addNonStandardFormats(ajv: Ajv): void {
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  ajv.addFormat('arm-id', { type: 'string', validate: (s: string) => s.startsWith('/') });
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  // Formats that only document intent (secrets, raw bytes) accept any string.
  for (const name of ['byte', 'binary', 'password', 'file']) ajv.addFormat(name, true);
}

function resolveParameter(param: Json, file: string, docs: Map<string, Json>): SpecParameter | undefined {
  let current: Json = param;
  // A parameter may be a $ref into this or another document's `parameters` section.
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string' && hops < 5; hops++) {
    const [target = '', fragment = ''] = current.$ref.split('#');
    const targetFile = target === '' ? file : path.resolve(path.dirname(file), target);
    const doc = docs.get(targetFile);
    if (!doc) return undefined;
    current = fragment
      .split('/')
      .filter(Boolean)
      .reduce<Json>((node, key) => (isObject(node) ? (node[key] ?? null) : null), doc);
    file = targetFile;
  }
  if (!isObject(current) || typeof current.name !== 'string' || typeof current.in !== 'string') return undefined;
  return { name: current.name, in: current.in as SpecParameter['in'], required: current.required === true };
}

function load(): LoadedSpec {
  if (loaded) return loaded;
  if (!existsSync(AZURE_SPEC_DIR)) {
    throw new Error(`the Azure spec folder ${AZURE_SPEC_DIR} does not exist (set RPO_AZURE_SPEC_DIR to override)`);
  }
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  addNonStandardFormats(ajv);

  const files = listJsonFiles(AZURE_SPEC_DIR).filter((f) => !f.split(path.sep).includes('examples'));
  const raw = new Map<string, Json>();
  for (const file of files) {
    const doc = readJson(file);
    if (isObject(doc) && doc.swagger === '2.0') raw.set(file, doc);
  }

  const unresolved = new Set<string>();
  const operations = new Map<string, SpecOperation>();
  const responseSchemas = new Map<string, Map<string, JsonObject | undefined>>();
  const exampleOwners = new Map<string, { operationId: string; title: string }>();

  for (const [file, doc] of raw) {
    const adapted = adaptDocument(doc, file, unresolved) as JsonObject;
    ajv.addSchema({ ...adapted, $id: fileUri(file) });
    const info = isObject(adapted.info) ? adapted.info : {};
    const apiVersion = typeof info.version === 'string' ? info.version : '';
    const paths = isObject(adapted.paths) ? adapted.paths : {};
    const rawPaths = isObject(doc) && isObject(doc.paths) ? doc.paths : {};
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      const rawItem = rawPaths[template];
      const sharedParams = isObject(rawItem) && Array.isArray(rawItem.parameters) ? rawItem.parameters : [];
      for (const method of METHODS) {
        const op = item[method.toLowerCase()];
        const rawOp = isObject(rawItem) ? rawItem[method.toLowerCase()] : undefined;
        if (!isObject(op) || typeof op.operationId !== 'string' || !isObject(rawOp)) continue;
        const responses = isObject(op.responses) ? op.responses : {};
        const schemas = new Map<string, JsonObject | undefined>();
        for (const [status, response] of Object.entries(responses)) {
          schemas.set(status, isObject(response) && isObject(response.schema) ? response.schema : undefined);
        }
        const rawParams = [...sharedParams, ...(Array.isArray(rawOp.parameters) ? rawOp.parameters : [])];
        const lroOptions = isObject(op['x-ms-long-running-operation-options'])
          ? op['x-ms-long-running-operation-options']
          : {};
        const finalStateVia = lroOptions['final-state-via'];
        operations.set(op.operationId, {
          operationId: op.operationId,
          method,
          path: template,
          specFile: path.relative(AZURE_SPEC_DIR, file),
          apiVersion,
          parameters: rawParams.flatMap((p) => resolveParameter(p, file, raw) ?? []),
          statusCodes: Object.keys(responses).filter((s) => s !== 'default'),
          hasDefaultResponse: 'default' in responses,
          longRunning: op['x-ms-long-running-operation'] === true,
          ...(typeof finalStateVia === 'string' ? { finalStateVia } : {}),
        });
        responseSchemas.set(op.operationId, schemas);
        const examples = isObject(op['x-ms-examples']) ? op['x-ms-examples'] : {};
        for (const [title, exampleFile] of Object.entries(examples)) {
          if (typeof exampleFile === 'string') exampleOwners.set(exampleFile, { operationId: op.operationId, title });
        }
      }
    }
  }
  const common = [...raw.keys()].find((f) => f.endsWith(path.join('common-types', 'v1', 'common.json')));
  const cloudErrorRef = common ? `${fileUri(common)}#/definitions/CloudError` : '';
  loaded = { ajv, operations, responseSchemas, exampleOwners, unresolved, cloudErrorRef };
  return loaded;
}

/** Every operation defined in the copied specs, by operationId. */
export function specOperations(): ReadonlyMap<string, SpecOperation> {
  return load().operations;
}

export function specOperation(operationId: string): SpecOperation {
  const op = load().operations.get(operationId);
  if (!op) throw new Error(`operation ${operationId} is not defined in ${AZURE_SPEC_DIR}`);
  return op;
}

/** `$ref`s whose target file is not in the spec folder (validated as "anything"). */
export function unresolvedReferences(): string[] {
  return [...load().unresolved];
}

const validators = new Map<string, ValidateFunction | null>();

function validatorFor(operationId: string, statusCode: number): { validate: ValidateFunction | null } | string {
  const spec = load();
  const schemas = spec.responseSchemas.get(operationId);
  if (!schemas) return `operation ${operationId} is not defined in the spec`;
  const status = String(statusCode);
  const key = `${operationId} ${status}`;
  const cached = validators.get(key);
  if (cached !== undefined) return { validate: cached };
  let schema: JsonObject | undefined;
  if (schemas.has(status)) {
    schema = schemas.get(status);
  } else if (statusCode >= 400 && schemas.has('default')) {
    schema = schemas.get('default');
  } else if (statusCode >= 400 && spec.cloudErrorRef) {
    // DiskRP declares no `default` response, yet the service answers errors as CloudError.
    schema = { $ref: spec.cloudErrorRef };
  } else {
    return `${operationId} does not declare status ${status} (declared: ${[...schemas.keys()].join(', ')})`;
  }
  const validate = schema ? spec.ajv.compile(schema) : null;
  validators.set(key, validate);
  return { validate };
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(body)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  const detail =
    typeof params.additionalProperty === 'string'
      ? ` '${params.additionalProperty}'`
      : Array.isArray(params.allowedValues)
        ? ` ${JSON.stringify(params.allowedValues.slice(0, 12))}${params.allowedValues.length > 12 ? ' …' : ''}`
        : '';
  return `${where} ${error.message ?? 'is invalid'}${detail}`;
}

/**
 * Checks a response body against the schema the spec declares for `operationId` and `statusCode`.
 * Returns the problems found, each naming the JSON path; an empty array means the body conforms.
 * A status without a schema (e.g. 202 of a delete) must come without a body.
 */
export function validateResponse(operationId: string, statusCode: number, body: unknown): string[] {
  const found = validatorFor(operationId, statusCode);
  if (typeof found === 'string') return [found];
  const empty = body === undefined || body === null || body === '';
  if (!found.validate) return empty ? [] : [`${operationId} ${statusCode} declares no body, got one`];
  if (empty) return [`${operationId} ${statusCode} declares a body, got none`];
  if (found.validate(body)) return [];
  return (found.validate.errors ?? []).map(describeError);
}

/** Every official example in the spec folder, with the operation it documents. */
export function specExamples(): SpecExample[] {
  const spec = load();
  const files = listJsonFiles(AZURE_SPEC_DIR).filter((f) => f.split(path.sep).includes('examples'));
  return files.map((file) => {
    const doc = readJson(file);
    const example = isObject(doc) ? doc : {};
    const owner = spec.exampleOwners.get(file);
    const ownOperationId = typeof example.operationId === 'string' ? example.operationId : undefined;
    const operationId = owner?.operationId ?? ownOperationId ?? ORPHAN_EXAMPLE_OPERATIONS[path.basename(file)] ?? '';
    const title = owner?.title ?? (typeof example.title === 'string' ? example.title : path.basename(file, '.json'));
    const responses: Record<string, SpecExampleResponse> = {};
    if (isObject(example.responses)) {
      for (const [status, response] of Object.entries(example.responses)) {
        responses[status] = isObject(response) ? response : {};
      }
    }
    return {
      file: path.relative(AZURE_SPEC_DIR, file),
      title,
      operationId,
      parameters: isObject(example.parameters) ? example.parameters : {},
      responses,
    };
  });
}
