import { redactSecrets } from '../../lib/redact';
import { classifyError } from '../../lib/armErrors';
import { openArmSession, type ArmSession } from '../../lib/azure/compute';
import { recordObservations } from '../../lib/azure/pacer';
import { appStores } from '../../lib/azure/stores';
import { nowMs } from '../../lib/clock';
import { appConfig } from '../../lib/config';
import type { ArmFailure } from '../../orchestrations/contracts';

/** What every activity that calls ARM shares: a session for one subscription, observed for pacing. */
export async function withArm<T>(subscriptionId: string, work: (session: ArmSession) => Promise<T>): Promise<T> {
  const session = openArmSession(subscriptionId, { config: appConfig() });
  try {
    return await work(session);
  } finally {
    // What the calls taught the pacer is advisory: a failed write keeps it for the next one and does not turn
    // calls already made into a failed activity (run again, it would repeat them).
    try {
      const stores = await appStores();
      await recordObservations(stores.state, subscriptionId, session.observations, nowMs());
    } catch (error) {
      console.warn(
        `[rpo] pacing observations not written yet: ${redactSecrets(error instanceof Error ? error.message : String(error))}`,
      );
    }
  }
}

/** An ARM error as the orchestrator needs it (lib/armErrors; messages redacted there). */
export function armFailure(error: unknown): ArmFailure {
  const c = classifyError(error, { now: nowMs() });
  return {
    kind: c.kind,
    code: c.code,
    message: c.message,
    ...(c.status !== undefined ? { status: c.status } : {}),
    ...('retryAfterSeconds' in c && c.retryAfterSeconds !== undefined
      ? { retryAfterSeconds: c.retryAfterSeconds }
      : {}),
  };
}

/** True for an error that is the resource (or its parent) not being there. */
export function isNotFound(error: unknown): boolean {
  return classifyError(error).kind === 'notFound';
}
