import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { generate } from 'selfsigned';

/**
 * A local CA and a server certificate for 127.0.0.1 / localhost / ::1, generated offline with
 * `selfsigned`, written to `certDir` (ca.pem, ca-key.pem, server.pem, server-key.pem) and reused
 * while valid, so a client that trusts ca.pem once keeps trusting restarts.
 */
export interface EmulatorCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const FILES = { ca: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const;

export async function ensureCertificates(certDir: string, nowMs = Date.now()): Promise<EmulatorCertificates> {
  const existing = await readExisting(certDir, nowMs);
  if (existing) return existing;
  await mkdir(certDir, { recursive: true });
  // Two emulators starting at once (parallel test workers, npm start) must not mix one's CA with
  // the other's server certificate: whoever holds the lock generates, the others wait and read.
  const lock = path.join(certDir, '.lock');
  const release = await acquireLock(lock);
  try {
    return (await readExisting(certDir, nowMs)) ?? (await generateInto(certDir, nowMs));
  } finally {
    await release();
  }
}

async function acquireLock(lock: string): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.close();
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than 60 s is left over from a crashed process.
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 60_000 || attempt > 600) await rm(lock, { force: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function generateInto(certDir: string, nowMs: number): Promise<EmulatorCertificates> {
  const notBeforeDate = new Date(nowMs - 86_400_000);
  const notAfterDate = new Date(nowMs + 5 * 365 * 86_400_000);
  const ca = await generate([{ name: 'commonName', value: 'RPO Compute emulator local CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(nowMs + 2 * 365 * 86_400_000),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  await writeAtomically(path.join(certDir, FILES.caKey), ca.private, 0o600);
  await writeAtomically(path.join(certDir, FILES.key), server.private, 0o600);
  await writeAtomically(path.join(certDir, FILES.cert), server.cert, 0o644);
  await writeAtomically(path.join(certDir, FILES.ca), ca.cert, 0o644);
  return { caPem: ca.cert, certPem: server.cert, keyPem: server.private };
}

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode });
  await rename(temporary, file);
}

async function readExisting(certDir: string, nowMs: number): Promise<EmulatorCertificates | undefined> {
  try {
    const [caPem, certPem, keyPem] = await Promise.all(
      [FILES.ca, FILES.cert, FILES.key].map((file) => readFile(path.join(certDir, file), 'utf8')),
    );
    if (caPem === undefined || certPem === undefined || keyPem === undefined) return undefined;
    const ca = new X509Certificate(caPem);
    const cert = new X509Certificate(certPem);
    const validUntil = Math.min(Date.parse(ca.validTo), Date.parse(cert.validTo));
    if (!cert.verify(ca.publicKey) || validUntil < nowMs + 86_400_000) return undefined;
    return { caPem, certPem, keyPem };
  } catch {
    return undefined;
  }
}
