/** Readable one-line logs for the local host; `quiet` keeps tests silent except for errors. */
export type HostLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface HostLogger {
  log(level: HostLogLevel, message: string): void;
}

const ORDER: Record<HostLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface ConsoleLoggerOptions {
  quiet?: boolean;
  /** Lowest level printed (default info; quiet = error). */
  level?: HostLogLevel;
  /** Where the time stamp comes from: the host's clock, so scaled/manual time shows in the logs. */
  now?: () => number;
}

export function createConsoleLogger(options: ConsoleLoggerOptions = {}): HostLogger {
  const min = ORDER[options.level ?? (options.quiet ? 'error' : 'info')];
  const now = options.now ?? Date.now;
  return {
    log(level, message) {
      if (ORDER[level] < min) return;
      const line = `[${new Date(now()).toISOString()}] ${level.toUpperCase().padEnd(5)} ${message}`;
      if (level === 'error' || level === 'warn') console.error(line);
      else console.log(line);
    },
  };
}

/** Maps the worker's RPC log levels onto the host's four. */
export function fromRpcLevel(level: string): HostLogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return 'debug';
    case 'warning':
      return 'warn';
    case 'error':
    case 'critical':
      return 'error';
    default:
      return 'info';
  }
}
