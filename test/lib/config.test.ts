import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_ARM_ENDPOINT, DEVELOPMENT_TABLE_ENDPOINT, loadConfig, redactConnectionString } from '../../lib/config';
import { ValidationError } from '../../lib/validation';

const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const keyConnection = `DefaultEndpointsProtocol=https;AccountName=rpoprod;AccountKey=${accountKey};EndpointSuffix=core.windows.net`;
const sasConnection =
  'BlobEndpoint=https://rpoprod.blob.core.windows.net/;TableEndpoint=https://rpoprod.table.core.windows.net/;' +
  'SharedAccessSignature=sv=2022-11-02&ss=bqt&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&sig=Zm9vYmFyYmF6c2VjcmV0';

function errorOf(env: Record<string, string | undefined>): ValidationError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the defaults around a development storage setting', () => {
    const config = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(config).toMatchObject({
      storage: { kind: 'development', tableEndpoint: DEVELOPMENT_TABLE_ENDPOINT, accountName: 'devstoreaccount1' },
      armEndpoint: DEFAULT_ARM_ENDPOINT,
      policyFiles: [],
      eventsTopicEndpoint: undefined,
      managedIdentityClientId: undefined,
      clockScale: 1,
      taskHub: undefined,
    });
    expect(config.storage.kind === 'development' && config.storage.connectionString).toBe('UseDevelopmentStorage=true');
  });

  it('reads every setting', () => {
    const config = loadConfig({
      AzureWebJobsStorage: keyConnection,
      RPO_ARM_ENDPOINT: 'https://127.0.0.1:8443/',
      RPO_POLICY_FILES: ' local/policies/*.json , /etc/rpo/prod.json',
      RPO_EVENTS_TOPIC_ENDPOINT: 'https://rpo.westeurope-1.eventgrid.azure.net/api/events',
      AZURE_CLIENT_ID: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE',
      RPO_CLOCK_SCALE: '3600',
      RPO_TASK_HUB: 'rpolocal',
    });
    expect(config).toMatchObject({
      storage: {
        kind: 'connectionString',
        accountName: 'rpoprod',
        tableEndpoint: 'https://rpoprod.table.core.windows.net',
      },
      armEndpoint: 'https://127.0.0.1:8443',
      policyFiles: ['local/policies/*.json', '/etc/rpo/prod.json'],
      eventsTopicEndpoint: 'https://rpo.westeurope-1.eventgrid.azure.net/api/events',
      managedIdentityClientId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      clockScale: 3600,
      taskHub: 'rpolocal',
    });
  });

  it('accepts the Azurite connection string the tests run against', () => {
    const config = loadConfig({ AzureWebJobsStorage: inject('azuriteConnectionString') });
    expect(config.storage.kind).toBe('connectionString');
    expect(config.storage.tableEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
  });

  it('accepts a SAS connection string with a table endpoint', () => {
    expect(loadConfig({ AzureWebJobsStorage: sasConnection }).storage).toMatchObject({
      kind: 'connectionString',
      tableEndpoint: 'https://rpoprod.table.core.windows.net',
    });
  });

  it('accepts identity-based storage by account name or by table service URI', () => {
    expect(
      loadConfig({
        AzureWebJobsStorage__accountName: 'rpoprod',
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: '11111111-2222-3333-4444-555555555555',
      }).storage,
    ).toEqual({
      kind: 'identity',
      accountName: 'rpoprod',
      tableEndpoint: 'https://rpoprod.table.core.windows.net',
      clientId: '11111111-2222-3333-4444-555555555555',
    });
    expect(
      loadConfig({ AzureWebJobsStorage__tableServiceUri: 'https://rpoprod.table.core.windows.net/' }).storage,
    ).toMatchObject({ kind: 'identity', tableEndpoint: 'https://rpoprod.table.core.windows.net' });
  });

  it('lets a connection string win over identity-based settings, as the Functions host does', () => {
    const config = loadConfig({ AzureWebJobsStorage: keyConnection, AzureWebJobsStorage__accountName: 'other' });
    expect(config.storage.kind).toBe('connectionString');
  });

  it('treats blank settings as unset', () => {
    const config = loadConfig({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      RPO_ARM_ENDPOINT: ' ',
      RPO_TASK_HUB: '',
    });
    expect(config.armEndpoint).toBe(DEFAULT_ARM_ENDPOINT);
    expect(config.taskHub).toBeUndefined();
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ AzureWebJobsStorage: keyConnection, RPO_POLICY_FILES: 'a.json' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.storage)).toBe(true);
    expect(Object.isFrozen(config.policyFiles)).toBe(true);
  });

  it('reports every bad setting at once, each with its rule', () => {
    const error = errorOf({
      RPO_ARM_ENDPOINT: 'http://management.azure.com',
      RPO_EVENTS_TOPIC_ENDPOINT: 'not a url',
      AZURE_CLIENT_ID: 'my-identity',
      RPO_CLOCK_SCALE: '0',
      RPO_TASK_HUB: '1hub',
      RPO_POLICY_FILES: 'a.json,,b.json',
    });
    expect(error.issues.map((i) => [i.field, i.rule])).toEqual([
      ['AzureWebJobsStorage', 'required'],
      ['RPO_ARM_ENDPOINT', 'https-url'],
      ['RPO_POLICY_FILES', 'paths'],
      ['RPO_EVENTS_TOPIC_ENDPOINT', 'https-url'],
      ['AZURE_CLIENT_ID', 'guid'],
      ['RPO_CLOCK_SCALE', 'positive-number'],
      ['RPO_TASK_HUB', 'task-hub-name'],
    ]);
    expect(error.message).toMatch(/configuration\.RPO_ARM_ENDPOINT: must be an https:\/\/ URL/);
  });

  const rejected: ReadonlyArray<[string, Record<string, string>, string, string]> = [
    [
      'an ARM endpoint with a path',
      { RPO_ARM_ENDPOINT: 'https://management.azure.com/subscriptions' },
      'RPO_ARM_ENDPOINT',
      'https-url',
    ],
    [
      'an ARM endpoint with a query',
      { RPO_ARM_ENDPOINT: 'https://management.azure.com/?x=1' },
      'RPO_ARM_ENDPOINT',
      'https-url',
    ],
    [
      'an ARM endpoint with credentials',
      { RPO_ARM_ENDPOINT: 'https://u:p@management.azure.com' },
      'RPO_ARM_ENDPOINT',
      'https-url',
    ],
    [
      'an http topic',
      { RPO_EVENTS_TOPIC_ENDPOINT: 'http://topic.eventgrid.azure.net/api/events' },
      'RPO_EVENTS_TOPIC_ENDPOINT',
      'https-url',
    ],
    ['a clock scale that is not a number', { RPO_CLOCK_SCALE: 'fast' }, 'RPO_CLOCK_SCALE', 'positive-number'],
    ['a negative clock scale', { RPO_CLOCK_SCALE: '-1' }, 'RPO_CLOCK_SCALE', 'positive-number'],
    ['a hexadecimal clock scale', { RPO_CLOCK_SCALE: '0x10' }, 'RPO_CLOCK_SCALE', 'positive-number'],
    ['an infinite clock scale', { RPO_CLOCK_SCALE: 'Infinity' }, 'RPO_CLOCK_SCALE', 'positive-number'],
    ['a task hub of 2 characters', { RPO_TASK_HUB: 'ab' }, 'RPO_TASK_HUB', 'task-hub-name'],
    ['a task hub of 46 characters', { RPO_TASK_HUB: 'a'.repeat(46) }, 'RPO_TASK_HUB', 'task-hub-name'],
    ['a task hub with a dash', { RPO_TASK_HUB: 'rpo-hub' }, 'RPO_TASK_HUB', 'task-hub-name'],
  ];

  it.each(rejected)('rejects %s', (_case, env, field, rule) => {
    const error = errorOf({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env });
    expect(error.issues).toEqual([expect.objectContaining({ field, rule })]);
  });

  const badStorage: ReadonlyArray<[string, Record<string, string>, string]> = [
    ['a connection string without a key or SAS', { AzureWebJobsStorage: 'AccountName=rpoprod' }, 'AzureWebJobsStorage'],
    ['a connection string that is not key=value pairs', { AzureWebJobsStorage: 'just-a-name' }, 'AzureWebJobsStorage'],
    [
      'an AccountKey that is not base64',
      { AzureWebJobsStorage: 'AccountName=a;AccountKey=not base64!' },
      'AzureWebJobsStorage',
    ],
    ['UseDevelopmentStorage=false', { AzureWebJobsStorage: 'UseDevelopmentStorage=false' }, 'AzureWebJobsStorage'],
    ['a SAS without an endpoint', { AzureWebJobsStorage: 'SharedAccessSignature=sv=1&sig=abc' }, 'AzureWebJobsStorage'],
    ['an upper-case account name', { AzureWebJobsStorage__accountName: 'RpoProd' }, 'AzureWebJobsStorage__accountName'],
    [
      'a table service URI carrying a SAS',
      { AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net/?sv=1&sig=SECRET' },
      'AzureWebJobsStorage__tableServiceUri',
    ],
    [
      'an http table service URI',
      { AzureWebJobsStorage__tableServiceUri: 'http://x.table.core.windows.net' },
      'AzureWebJobsStorage__tableServiceUri',
    ],
    [
      'an unknown credential',
      { AzureWebJobsStorage__accountName: 'rpoprod', AzureWebJobsStorage__credential: 'cli' },
      'AzureWebJobsStorage__credential',
    ],
    [
      'a storage client id that is not a GUID',
      { AzureWebJobsStorage__accountName: 'rpoprod', AzureWebJobsStorage__clientId: 'x' },
      'AzureWebJobsStorage__clientId',
    ],
  ];

  it.each(badStorage)('rejects storage: %s', (_case, env, field) => {
    expect(errorOf(env).issues.map((i) => i.field)).toEqual([field]);
  });

  it('never echoes a secret in an error message', () => {
    const error = errorOf({
      AzureWebJobsStorage: `AccountName=rpoprod;AccountKey=${accountKey}!!`,
      RPO_CLOCK_SCALE: accountKey,
    });
    expect(error.message).not.toContain(accountKey.slice(0, 12));
  });

  it('never shows the key or the SAS in JSON, String() or util.inspect', () => {
    for (const connection of [keyConnection, sasConnection]) {
      const config = loadConfig({ AzureWebJobsStorage: connection });
      for (const text of [
        JSON.stringify(config),
        String(config.storage),
        `${inspect(config, { depth: 5 })}`,
        JSON.stringify({ ...config.storage }),
      ]) {
        expect(text).not.toContain(accountKey.slice(0, 12));
        expect(text).not.toContain('Zm9vYmFyYmF6c2VjcmV0');
        expect(text).toContain('rpoprod');
      }
      expect(config.storage.kind === 'connectionString' && config.storage.connectionString).toBe(connection);
    }
  });
});

describe('redactConnectionString', () => {
  it('keeps names and endpoints and drops keys and signatures (property)', () => {
    fc.assert(
      fc.property(
        fc.base64String({ minLength: 8, maxLength: 88 }).filter((s) => /^[A-Za-z0-9]{8}/.test(s)),
        (key) => {
          const redacted = redactConnectionString(
            `AccountName=acct;AccountKey=${key};SharedAccessSignature=sv=1&sig=${key}`,
          );
          expect(redacted).not.toContain(key);
          expect(redacted).toContain('AccountName=acct');
        },
      ),
    );
  });
});
