import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../lib/redact';

const sasUrl =
  'https://md-abc.blob.core.windows.net/xyz/abcd?sv=2018-03-28&sr=b&si=1&sig=AbCdEf%2BGh%3D&se=2026-01-01T00%3A00%3A00Z';
const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2lnbmF0dXJl';

describe('redactSecrets', () => {
  it('removes SAS query strings, bare SAS parameters, bearer tokens, JWTs and account keys', () => {
    const text = [
      `url ${sasUrl}`,
      'params sv=2020-10-02&sig=secret123',
      `Authorization: Bearer ${jwt}`,
      `token ${jwt}`,
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5PT0=;EndpointSuffix=core.windows.net',
      'BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2020&sig=abc',
    ].join('\n');
    const redacted = redactSecrets(text);
    for (const secret of ['AbCdEf', 'secret123', 'c2VjcmV0a2V5PT0', 'sig=abc', jwt.slice(0, 20)]) {
      expect(redacted).not.toContain(secret);
    }
    expect(redacted).toContain('AccountName=a');
    expect(redacted).toContain('https://a.blob.core.windows.net/');
  });

  it('never lets a signature through, whatever surrounds it (property)', () => {
    const safe = fc.stringMatching(/^[A-Za-z0-9]{8,40}$/);
    fc.assert(
      fc.property(safe, safe, fc.constantFrom(' ', '\n', '"', "'", '(', ''), (secret, path, before) => {
        const out = redactSecrets(`${before}https://acct.blob.core.windows.net/${path}?sv=2022-11-02&sig=${secret}`);
        expect(out).not.toContain(`sig=${secret}`);
        expect(redactSecrets(`Bearer ${secret}`)).not.toContain(secret);
      }),
    );
  });
  it('removes the query of SAS URLs, bare sig= values, account keys and bearer tokens', () => {
    expect(redactSecrets('see https://a.blob.core.windows.net/c/d?sv=2020&sig=AbC%3D&se=x now')).toBe(
      'see https://a.blob.core.windows.net/c/d?<redacted> now',
    );
    expect(redactSecrets('token sig=AbC&x=1')).toBe('token sig=<redacted>&x=1');
    expect(redactSecrets('AccountName=a;AccountKey=k3y==;EndpointSuffix=x')).toBe(
      'AccountName=a;AccountKey=<redacted>;EndpointSuffix=x',
    );
    expect(redactSecrets('Authorization: Bearer eyJ.abc-_.x==')).toBe('Authorization: Bearer <redacted>');
    expect(redactSecrets('Conflict: restore point in use')).toBe('Conflict: restore point in use');
  });
});
