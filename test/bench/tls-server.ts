// The benchmarks' TLS server, run as a child process so that server and client each get a core.
// The parent sends { key, cert, maxVersion } and receives the port.
import tls from 'node:tls';

interface ServerSetup {
  key: string;
  cert: string;
  maxVersion: tls.SecureVersion;
}

process.once('message', (setup: ServerSetup) => {
  const server = tls.createServer({ key: setup.key, cert: setup.cert, maxVersion: setup.maxVersion }, (socket) => {
    socket.on('error', () => undefined);
    socket.resume();
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
});
process.once('disconnect', () => process.exit(0));
