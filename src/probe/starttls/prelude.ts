import type { Socket } from 'node:net';
import type { StartTlsProtocol } from '../../config/options.js';
import type { Deadline } from '../deadline.js';
import { cancelled, seconds } from '../failures.js';
import type { Destination } from '../resolve.js';
import { failure, type Outcome, success } from '../stage.js';
import { Conversation, PreludeConnectionLost, PreludeRefused, quote } from './conversation.js';
import { ldap } from './ldap.js';
import { postgres } from './postgres.js';
import { ftp, imap, pop3, smtp } from './text.js';
import { xmpp } from './xmpp.js';

type Dialogue = (c: Conversation, host: string, port: number) => Promise<void>;

/** One clear-text dialogue per protocol, ending where the server expects a TLS ClientHello. */
const DIALOGUES: Record<StartTlsProtocol, Dialogue> = { smtp, imap, pop3, ldap, xmpp, ftp, postgres };

const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Speaks the endpoint's STARTTLS dialogue on a connected socket, within the probe's deadline.
 * Returns the bytes the server sent during it; the socket is then paused, ready for TLS.
 */
export async function runPrelude(socket: Socket, protocol: StartTlsProtocol, dest: Destination, deadline: Deadline): Promise<Outcome<number>> {
  const c = new Conversation(socket);
  const stop = deadline.onInterrupt(() => socket.destroy());
  const name = protocol.toUpperCase();
  try {
    await DIALOGUES[protocol](c, dest.host, dest.port);
    c.finish();
    return success(c.received);
  } catch (err) {
    c.detach();
    socket.destroy();
    const said = c.lastAnswer ? `; it last said ${quote(c.lastAnswer.toString('latin1'))}` : c.received === 0 ? '; it sent nothing' : '';
    if (deadline.interruption === 'cancelled') return failure('transport', cancelled(dest.peer));
    if (deadline.interruption === 'timeout') {
      return failure('transport', {
        kind: 'timeout',
        message: `${dest.peer} did not complete the ${name} STARTTLS exchange within ${seconds(deadline.timeoutMs)}${said} — is this a ${name} port?`,
      });
    }
    if (err instanceof PreludeRefused) {
      return failure('transport', { kind: 'starttls', message: `${dest.peer} refused ${name} STARTTLS: it ${err.message}` });
    }
    if (err instanceof PreludeConnectionLost) {
      if (RESET.has(err.code ?? '')) {
        return failure('transport', { kind: 'reset', message: `${dest.peer} reset the connection during the ${name} STARTTLS exchange${said}` });
      }
      return failure('transport', {
        kind: 'starttls',
        message: `${dest.peer} closed the connection during the ${name} STARTTLS exchange${said} — is starttls: ${protocol} right for this port?`,
      });
    }
    throw err;
  } finally {
    stop();
  }
}
