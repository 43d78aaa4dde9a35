import { readFileSync } from 'node:fs';
import { ComputeManagementClient } from '@azure/arm-compute';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { retryAfterSeconds } from '../armErrors';
import { nowMs } from '../clock';
import type { AppConfig } from '../config';
import { armCredential } from './credential';
import { observe, type ArmObservation } from './observations';

/**
 * The one place RPO builds its Compute clients (issue: "lib/azure/"). Against `RPO_ARM_ENDPOINT`, with the
 * managed identity (lib/azure/credential), and **the SDK's own retries off**: a Compute 429 carries a
 * Retry-After of up to 20 minutes, which must be waited out on a durable timer by the orchestrator, never
 * inside an activity. Every answer is observed for pacing (lib/azure/observations).
 */
export interface ArmSession {
  readonly subscriptionId: string;
  readonly compute: ComputeManagementClient;
  /** Every response this session received, in order. */
  readonly observations: ArmObservation[];
  /** Counts of requests by kind, for the caller's records (and the pacing reservations' accounting). */
  readonly requests: { read: number; write: number; delete: number };
}

export interface ArmSessionOptions {
  readonly config: Pick<AppConfig, 'armEndpoint' | 'managedIdentityClientId' | 'armCaFile'>;
  /** Clock for observations; default lib/clock. */
  readonly now?: () => number;
  /** Extra CAs as PEM text (tests and tools that hold the emulator's CA in memory); wins over `armCaFile`. */
  readonly caPem?: string;
}

const caCache = new Map<string, string>();

function extraCa(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let pem = caCache.get(file);
  if (pem === undefined) {
    pem = readFileSync(file, 'utf8');
    caCache.set(file, pem);
  }
  return pem;
}

/** A fresh client for one unit of work (an activity): its observations belong to that work only. */
export function openArmSession(subscriptionId: string, options: ArmSessionOptions): ArmSession {
  const { config } = options;
  const now = options.now ?? nowMs;
  const observations: ArmObservation[] = [];
  const requests = { read: 0, write: 0, delete: 0 };
  const observer: PipelinePolicy = {
    name: 'rpoObserveLimits',
    async sendRequest(request, next) {
      const sentAtMs = now();
      const response = await next(request);
      const body = response.status === 429 ? parseJson(response.bodyAsText ?? undefined) : undefined;
      const observation = observe(
        request.method,
        response.status,
        response.headers,
        now(),
        body,
        retryAfterSeconds(response.headers, { now: now() }),
        sentAtMs,
        request.url,
      );
      requests[observation.kind] += 1;
      observations.push(observation);
      return response;
    },
  };
  const ca = options.caPem ?? extraCa(config.armCaFile);
  const compute = new ComputeManagementClient(
    armCredential(config.armEndpoint, config.managedIdentityClientId),
    subscriptionId,
    {
      endpoint: config.armEndpoint,
      credentials: { scopes: [`${scopeBase(config.armEndpoint)}/.default`] },
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [{ policy: observer, position: 'perRetry' }],
      ...(ca !== undefined ? { tlsOptions: { ca } } : {}),
    },
  );
  return { subscriptionId, compute, observations, requests };
}

/** ARM's token audience: the public cloud's for management.azure.com, the endpoint itself for sovereign clouds. */
function scopeBase(endpoint: string): string {
  return /^https:\/\/management\.azure\.com\/?$/i.test(endpoint) ? 'https://management.azure.com' : endpoint;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
