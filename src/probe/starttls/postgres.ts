// PostgreSQL's SSLRequest (protocol documentation, "SSL Session Encryption"): an 8-byte message,
// answered by one byte, 'S' to go on with TLS or 'N' to refuse.
import { describeBytes } from '../failures.js';
import { type Conversation, PreludeRefused } from './conversation.js';

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export async function postgres(c: Conversation): Promise<void> {
  c.send(SSL_REQUEST);
  const answer = await c.take(() => 1);
  if (answer[0] === 0x53) return; // 'S'
  if (answer[0] === 0x4e) throw new PreludeRefused("answered 'N': the server does not accept TLS (ssl = off in postgresql.conf?)");
  if (answer[0] === 0x45) throw new PreludeRefused("answered the SSL request with an error message ('E'): a server too old for TLS, or not PostgreSQL");
  throw new PreludeRefused(`answered ${describeBytes(answer)}, which is not a PostgreSQL SSL answer`);
}
