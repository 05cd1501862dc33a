// Loopback servers that speak a protocol's clear-text STARTTLS exchange and then hand the socket
// to a real TLS server presenting an exact chain — or refuse, as servers without TLS do.
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { StartTlsProtocol } from '../../src/config/options.js';
import { listen, type ServedEndpoint } from '../../src/demo/servers.js';

export interface StartTlsServerOptions {
  protocol: StartTlsProtocol;
  /** Private key of chain[0], and the chain to present (PEMs). */
  key: string;
  chain: string[];
  /** Answer the request for TLS with the protocol's refusal instead. */
  refuse?: boolean;
  host?: string;
}

/** Reads what the client says, line by line or as raw bytes, as the dialogue needs. */
class Inbox {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private readonly onData = (chunk: Buffer): void => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.wake?.();
  };

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
  }

  async until(complete: (b: Buffer) => number): Promise<Buffer> {
    for (;;) {
      const n = this.buffered.length > 0 ? complete(this.buffered) : 0;
      if (n > 0) {
        const out = this.buffered.subarray(0, n);
        this.buffered = this.buffered.subarray(n);
        return out;
      }
      if (this.socket.destroyed) throw new Error('client went away');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async line(): Promise<string> {
    const b = await this.until((buf) => buf.indexOf(0x0a) + 1);
    return b.toString('latin1').trim();
  }

  /** Stops reading: the socket goes to TLS. */
  release(): void {
    this.socket.pause();
    this.socket.off('data', this.onData);
  }
}

type Dialogue = (inbox: Inbox, socket: Socket, refuse: boolean) => Promise<boolean>;

const smtp: Dialogue = async (inbox, socket, refuse) => {
  socket.write('220 mail.contoso.test ESMTP ready\r\n');
  for (;;) {
    const line = await inbox.line();
    const verb = line.split(' ')[0]!.toUpperCase();
    if (verb === 'EHLO')
      socket.write(refuse ? '250-mail.contoso.test\r\n250 SIZE 10240000\r\n' : '250-mail.contoso.test\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n');
    else if (verb === 'STARTTLS') {
      if (refuse) {
        socket.write('454 4.7.0 TLS not available due to local problem\r\n');
        return false;
      }
      socket.write('220 2.0.0 Ready to start TLS\r\n');
      return true;
    } else socket.write('502 5.5.2 Error: command not recognized\r\n');
  }
};

const imap: Dialogue = async (inbox, socket, refuse) => {
  socket.write('* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n');
  for (;;) {
    const [tag, command] = (await inbox.line()).split(' ');
    if (command?.toUpperCase() === 'CAPABILITY') socket.write(`* CAPABILITY IMAP4rev1${refuse ? '' : ' STARTTLS'}\r\n${tag} OK done\r\n`);
    else if (command?.toUpperCase() === 'STARTTLS') {
      socket.write(refuse ? `${tag} BAD STARTTLS not available\r\n` : `${tag} OK Begin TLS negotiation now\r\n`);
      return !refuse;
    } else socket.write(`${tag} BAD unknown command\r\n`);
  }
};

const pop3: Dialogue = async (inbox, socket, refuse) => {
  socket.write('+OK POP3 server ready\r\n');
  for (;;) {
    const line = (await inbox.line()).toUpperCase();
    if (line === 'CAPA') socket.write(`+OK\r\nUSER\r\n${refuse ? '' : 'STLS\r\n'}.\r\n`);
    else if (line === 'STLS') {
      socket.write(refuse ? '-ERR command not recognised\r\n' : '+OK Begin TLS negotiation\r\n');
      return !refuse;
    } else socket.write('-ERR unknown command\r\n');
  }
};

const ftp: Dialogue = async (inbox, socket, refuse) => {
  socket.write('220-contoso FTP\r\n welcome\r\n220 ready\r\n');
  for (;;) {
    const line = (await inbox.line()).toUpperCase();
    if (line === 'AUTH TLS') {
      socket.write(refuse ? '502 Command not implemented\r\n' : '234 Proceed with negotiation.\r\n');
      return !refuse;
    }
    socket.write('500 unknown command\r\n');
  }
};

const postgres: Dialogue = async (inbox, socket, refuse) => {
  await inbox.until((b) => (b.length >= 8 ? 8 : 0));
  socket.write(refuse ? 'N' : 'S');
  return !refuse;
};

/** ExtendedResponse for messageID `id` (RFC 4511 §4.12), short-form lengths only. */
function ldapResponse(id: number, resultCode: number, diagnostic: string): Buffer {
  const diag = Buffer.from(diagnostic);
  const op = Buffer.concat([Buffer.from([0x0a, 1, resultCode, 0x04, 0, 0x04, diag.length]), diag]);
  const body = Buffer.concat([Buffer.from([0x02, 1, id, 0x78, op.length]), op]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

const ldap: Dialogue = async (inbox, socket, refuse) => {
  const request = await inbox.until((b) => (b.length >= 2 && b.length >= 2 + b[1]! ? 2 + b[1]! : 0));
  const id = request[4]!; // 30 len 02 01 <id>
  if (!request.includes(Buffer.from('1.3.6.1.4.1.1466.20037'))) throw new Error('not a StartTLS request');
  socket.write(refuse ? ldapResponse(id, 2, 'unsupported extended operation') : ldapResponse(id, 0, ''));
  return !refuse;
};

const xmpp: Dialogue = async (inbox, socket, refuse) => {
  await inbox.until((b) => {
    const m = /<stream:stream[^>]*>/.exec(b.toString('latin1'));
    return m ? m.index + m[0].length : 0;
  });
  const features = refuse
    ? "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
    : "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
  socket.write(
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' " +
      `id='c2s-1' from='im.contoso.test' version='1.0'><stream:features>${features}</stream:features>`,
  );
  if (refuse) return false;
  await inbox.until((b) => {
    const m = /<starttls[^>]*\/>/.exec(b.toString('latin1'));
    return m ? m.index + m[0].length : 0;
  });
  socket.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  return true;
};

const DIALOGUES: Record<StartTlsProtocol, Dialogue> = { smtp, imap, pop3, ftp, postgres, ldap, xmpp };

export function serveStartTls(o: StartTlsServerOptions): Promise<ServedEndpoint> {
  const secureContext = createSecureContext({ key: o.key, cert: o.chain.join('\n') });
  return listen({ host: o.host }, (socket, track) => {
    const inbox = new Inbox(socket);
    DIALOGUES[o.protocol](inbox, socket, o.refuse ?? false).then(
      (proceed) => {
        inbox.release();
        if (!proceed) return void setTimeout(() => socket.end(), 50);
        const tls = new TLSSocket(socket, { isServer: true, secureContext });
        track(tls);
        tls.on('error', () => tls.destroy());
        tls.on('end', () => tls.end());
        tls.resume();
      },
      () => socket.destroy(),
    );
  });
}
