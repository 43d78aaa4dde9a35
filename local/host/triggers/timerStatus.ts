/**
 * The timer trigger's schedule monitor: each monitored timer's last status (Last, Next,
 * LastUpdated) survives a host restart, so a host that was down when an occurrence was due runs the
 * timer once at startup with `isPastDue: true` (TimerListener + ScheduleMonitor). Azure keeps the
 * status in blobs under `azure-webjobs-hosts/timers/`; locally it lives in memory (per process) or in
 * the Table `AzureWebJobsHostTimers` of the app's storage account.
 */
import { RestError, TableClient } from '@azure/data-tables';

export interface TimerStatus {
  last: string;
  next: string;
  lastUpdated: string;
}

export interface TimerStatusStore {
  get(timerName: string): Promise<TimerStatus | undefined>;
  set(timerName: string, status: TimerStatus): Promise<void>;
}

export const TIMER_STATUS_TABLE = 'AzureWebJobsHostTimers';

const memory = new Map<string, TimerStatus>();

/** Per-process status, keyed by app folder: survives a host restart inside one process (tests). */
export function memoryTimerStatusStore(appKey: string): TimerStatusStore {
  return {
    get: (name) => Promise.resolve(memory.get(`${appKey}|${name.toLowerCase()}`)),
    set: (name, status) => {
      memory.set(`${appKey}|${name.toLowerCase()}`, status);
      return Promise.resolve();
    },
  };
}

/** Table keys cannot hold slash, backslash, #, ? or control characters. */
function tableKey(text: string): string {
  return [...text].map((ch) => (/[/\\#?]/.test(ch) || isControl(ch) ? '_' : ch)).join('');
}

function isControl(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

export async function tableTimerStatusStore(connectionString: string, appKey: string): Promise<TimerStatusStore> {
  const table = TableClient.fromConnectionString(connectionString, TIMER_STATUS_TABLE, {
    allowInsecureConnection: true,
  });
  try {
    await table.createTable();
  } catch (error) {
    if (!(error instanceof RestError && error.statusCode === 409)) throw error;
  }
  const partitionKey = tableKey(appKey);
  return {
    async get(name) {
      try {
        const row = await table.getEntity<{ Last: string; Next: string; LastUpdated: string }>(
          partitionKey,
          tableKey(name.toLowerCase()),
        );
        return { last: row.Last, next: row.Next, lastUpdated: row.LastUpdated };
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
      }
    },
    async set(name, status) {
      await table.upsertEntity(
        {
          partitionKey,
          rowKey: tableKey(name.toLowerCase()),
          Last: status.last,
          Next: status.next,
          LastUpdated: status.lastUpdated,
        },
        'Replace',
      );
    },
  };
}
