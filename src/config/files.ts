// Reading the files a config names (CA bundles, client certificates), after the tree is walked,
// so one bad path is reported next to every other problem rather than instead of them.
import { FileRefused, readRegularFile } from '../util/fs.js';
import { pemCertificates } from '../util/pem.js';
import type { Ctx, PendingRead } from './reader.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** Problem with a CA bundle, or null: at least one certificate, and every one parses. */
export function checkCaBundle(text: string): string | null {
  const pems = pemCertificates(text);
  if (pems.length === 0) {
    return /-----BEGIN /.test(text)
      ? 'holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)'
      : 'holds no PEM certificate; if it is DER, convert it: openssl x509 -inform der -in FILE -out FILE.pem';
  }
  // node:crypto only for configs that name CA files.
  const { X509Certificate } = process.getBuiltinModule('node:crypto');
  for (let i = 0; i < pems.length; i++) {
    try {
      new X509Certificate(pems[i]!);
    } catch {
      return `certificate ${i + 1} of ${pems.length} is not a valid certificate`;
    }
  }
  return null;
}

export function checkCertificateFile(text: string): string | null {
  return pemCertificates(text).length > 0 ? null : 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
}

export function checkPrivateKeyFile(text: string): string | null {
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? null : 'holds no PEM private key (-----BEGIN PRIVATE KEY-----)';
}

async function readText(path: string): Promise<{ text: string } | { error: string }> {
  try {
    return { text: (await readRegularFile(path, MAX_FILE_BYTES)).toString('utf8') };
  } catch (err) {
    if (!(err instanceof FileRefused)) throw err;
    switch (err.code) {
      case 'missing':
        return { error: `cannot read ${path}: no such file` };
      case 'denied':
        return { error: `cannot read ${path}: permission denied (the daemon's user must be able to read it)` };
      case 'directory':
        return { error: `cannot read ${path}: it is a directory, not a file` };
      case 'too_large':
        return { error: `${path} ${err.reason}; no certificate file is that large` };
      case 'not_a_file':
        return { error: `cannot read ${path}: it ${err.reason}` };
      default:
        return { error: `cannot read ${path}: ${err.reason}` };
    }
  }
}

/** Reads every pending file once (targets often share a client certificate) and reports problems. */
export async function readPendingFiles(ctx: Ctx): Promise<void> {
  const cache = new Map<string, Promise<{ text: string } | { error: string }>>();
  const results = await Promise.all(
    ctx.reads.map(async (read: PendingRead) => {
      let pending = cache.get(read.path);
      if (!pending) {
        pending = readText(read.path);
        cache.set(read.path, pending);
      }
      return { read, result: await pending };
    }),
  );
  for (const { read, result } of results) {
    if ('error' in result) {
      ctx.report(read.at, read.key, result.error);
      continue;
    }
    const problem = read.check(result.text);
    if (problem) ctx.report(read.at, read.key, `${read.path} ${problem}`);
    else read.use(result.text);
  }
  for (const check of ctx.afterReads) check();
}
