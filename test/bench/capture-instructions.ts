// One capture variant, `count` handshakes, nothing else: run under callgrind, which counts the
// client's instructions exactly, so that a difference of a few percent shows on a loaded machine
// where CPU time cannot tell it (the TLS server is a child process valgrind does not follow).
// Instructions per handshake = (total at 2n − total at n) / n, which cancels start-up and JIT.
//
//   for v in bare x509 probe; do for n in 800 1600; do
//     valgrind --tool=callgrind --callgrind-out-file=/tmp/cg-$v-$n.out \
//       node --import tsx test/bench/capture-instructions.ts $v $n TLSv1.3 2>&1 | grep Collected
//   done; done
//   callgrind_annotate /tmp/cg-probe-1600.out   # where they go (OpenSSL, malloc, V8)
//
// Variants: bare (tls.connect, 'secureConnect' → destroy), x509 (bare plus requestOCSP and the
// getPeerX509Certificate walk reading each DER), probe (probeEndpoint). The PKI is made once and
// kept in the temp directory: key generation would swamp the count.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { probeContext } from '../../src/probe/context.js';
import { probeEndpoint } from '../../src/probe/probe.js';
import { endpointFor } from '../probe/endpoint.js';
import { BENCH_HOST, benchPki, loop, type Once, startBenchServer } from './support.js';

const [variant = 'probe', count = '800', maxVersion = 'TLSv1.3'] = process.argv.slice(2);
const pkiFile = path.join(os.tmpdir(), 'chainwatch-capture-instructions-pki.json');
if (!fs.existsSync(pkiFile)) {
  const { intermediate, leaf } = await benchPki();
  fs.writeFileSync(pkiFile, JSON.stringify({ key: leaf.keyPem, cert: leaf.pem + intermediate.pem }));
}
const { key, cert } = JSON.parse(fs.readFileSync(pkiFile, 'utf8')) as { key: string; cert: string };
const server = await startBenchServer({ key, cert, maxVersion: maxVersion as tls.SecureVersion });
const base = { host: '127.0.0.1', port: server.port, servername: BENCH_HOST, secureContext: probeContext(null), rejectUnauthorized: false };
const endpoint = endpointFor({ host: '127.0.0.1', port: server.port }, { key: 'cost', target: 'cost', group: 'cost', host: BENCH_HOST });

const direct =
  (readChain: boolean): Once =>
  (done) => {
    const socket = tls.connect({ ...base, ...(readChain ? { requestOCSP: true } : {}) } as tls.ConnectionOptions);
    let read = 0;
    if (readChain)
      socket.once('OCSPResponse', () => {
        for (let c = socket.getPeerX509Certificate(); c; c = c.issuerCertificate) read += c.raw.length > 0 ? 1 : 0;
      });
    socket.once('secureConnect', () => {
      socket.destroy();
      done(!readChain || read === 2 ? undefined : new Error('chain not read'));
    });
    socket.once('error', (err) => {
      socket.destroy();
      done(err);
    });
  };
const variants: Record<string, Once> = {
  bare: direct(false),
  x509: direct(true),
  probe: (done) => void probeEndpoint(endpoint, { timeoutMs: 10_000 }).then((r) => done(r.error === null ? undefined : new Error(r.error.message))),
};
const once = variants[variant];
if (!once) throw new Error(`unknown variant ${variant}: one of ${Object.keys(variants).join(', ')}`);
try {
  const r = await loop(once, 16, { count: Number(count) });
  if (r.errors > 0) throw new Error(`${r.errors} failed, first: ${r.firstError?.message}`);
} finally {
  server.stop();
}
