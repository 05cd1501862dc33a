// XMPP STARTTLS (RFC 6120 §5): open a stream, find <starttls/> among the stream features, ask
// for it, and go on when the server answers <proceed/>.
import { type Conversation, PreludeRefused, quote } from './conversation.js';

/** Server-to-server streams (port 5269, federation) use another namespace than client streams. */
const SERVER_TO_SERVER_PORT = 5269;

function until(pattern: RegExp): (received: Buffer) => number {
  return (received) => {
    const m = pattern.exec(received.toString('latin1'));
    return m ? m.index + m[0].length : 0;
  };
}

const FEATURES_OR_ERROR = /<\/stream:features>|<stream:features\s*\/>|<\/stream:error>|<\/stream:stream>/;
const PROCEED_OR_FAILURE = /<proceed\b[^>]*\/>|<\/proceed>|<failure\b[^>]*\/>|<\/failure>|<\/stream:error>|<\/stream:stream>/;

export async function xmpp(c: Conversation, host: string, port: number): Promise<void> {
  const namespace = port === SERVER_TO_SERVER_PORT ? 'jabber:server' : 'jabber:client';
  c.send(
    `<?xml version='1.0'?><stream:stream xmlns='${namespace}' xmlns:stream='http://etherx.jabber.org/streams' ` +
      `to='${host.replace(/[^a-zA-Z0-9.:_-]/g, '')}' version='1.0'>`,
  );
  const opening = (await c.take(until(FEATURES_OR_ERROR))).toString('latin1');
  if (/<stream:error>/.test(opening) || !/<stream:features/.test(opening)) {
    throw new PreludeRefused(`answered the stream opening with ${quote(opening.slice(opening.search(/<stream:(error|features)|<\/stream/)))}`);
  }
  const features = opening.slice(opening.indexOf('<stream:features'));
  if (!/<starttls\b/.test(features)) throw new PreludeRefused(`does not offer STARTTLS among its stream features ${quote(features)}`);
  c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  const answer = (await c.take(until(PROCEED_OR_FAILURE))).toString('latin1');
  if (!/<proceed\b/.test(answer)) throw new PreludeRefused(`answered <starttls/> with ${quote(answer)}`);
}
