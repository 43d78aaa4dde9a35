import type { DurableClient } from 'durable-functions';

/** Durable client helpers shared by the triggers. */

/** Whether an instance with this id exists in any state (the client throws on the extension's 404). */
export async function instanceExists(client: DurableClient, instanceId: string): Promise<boolean> {
  try {
    await client.getStatus(instanceId);
    return true;
  } catch (error) {
    if (error instanceof Error && /\b404\b/.test(error.message)) return false;
    throw error;
  }
}

/**
 * Starts an orchestration under a deterministic id unless one already exists. Two racing callers both may see
 * none: the second start is refused by the runtime ("already exists"), which is the answer too.
 */
export async function startOnce(
  client: DurableClient,
  name: string,
  instanceId: string,
  input: unknown,
): Promise<'started' | 'exists'> {
  if (await instanceExists(client, instanceId)) return 'exists';
  try {
    await client.startNew(name, { instanceId, input });
    return 'started';
  } catch (error) {
    if (error instanceof Error && /already exists/i.test(error.message)) return 'exists';
    throw error;
  }
}
