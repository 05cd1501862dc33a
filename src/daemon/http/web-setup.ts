// Turns the web config file into what the HTTP front serves with: TLS options with the PEM files
// read, the basic-auth checker and the extra headers. The I/O edge of src/config/web-config.ts.
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { type ClientAuthType, parseWebConfig } from '../../config/web-config.js';
import type { Logger } from '../../log/logger.js';
import { BasicAuth } from './basic-auth.js';

export interface TlsSetup {
  context: SecureContextOptions;
  clientAuth: ClientAuthType;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface WebSetup {
  /** The file it came from, for logs. */
  file: string;
  tls: TlsSetup | null;
  auth: BasicAuth | null;
  headers: Readonly<Record<string, string>>;
}

const MAX_WEB_CONFIG_BYTES = 1 << 20;

/** Reads and checks the web config and the files it names; throws with an operator-readable message. */
export async function loadWebSetup(file: string, log: Logger): Promise<WebSetup> {
  const text = await readText(file, 'web config file');
  if (text.length > MAX_WEB_CONFIG_BYTES) throw new Error(`web config file ${file} is larger than 1 MiB; it holds a few users and file names`);
  const web = parseWebConfig(text, file, dirname(file));
  let tls: TlsSetup | null = null;
  if (web.tls !== null) {
    const { certFile, keyFile, clientCaFile, clientAuth, minVersion, ciphers } = web.tls;
    const [cert, key, ca] = await Promise.all([
      readText(certFile, 'tls_server_config.cert_file'),
      readText(keyFile, 'tls_server_config.key_file'),
      clientCaFile === null ? Promise.resolve(undefined) : readText(clientCaFile, 'tls_server_config.client_ca_file'),
    ]);
    const mode = (await stat(keyFile)).mode;
    if ((mode & 0o077) !== 0) {
      log.warn('the TLS private key file is readable by group or others; restrict it with chmod 600 (or 640 with a dedicated group)', {
        file: keyFile,
        mode: (mode & 0o777).toString(8),
      });
    }
    const context: SecureContextOptions = { cert, key, ...(ca === undefined ? {} : { ca }), ...(ciphers === null ? {} : { ciphers }) };
    try {
      createSecureContext(context);
    } catch (err) {
      throw new Error(`web config file ${file}: the TLS files are not usable (${(err as Error).message}); check that key_file is the key of cert_file`);
    }
    tls = { context, clientAuth, minVersion };
  }
  return { file, tls, auth: web.users.size === 0 ? null : new BasicAuth(web.users), headers: web.headers };
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied for the chainwatch user' : (err as Error).message;
    throw new Error(`cannot read ${what} ${file}: ${why}`);
  }
}
