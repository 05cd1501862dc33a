// The line-based STARTTLS dialogues: SMTP (RFC 3207), IMAP (RFC 3501 §6.2.1), POP3 (RFC 2595 §4)
// and FTP (RFC 4217).
import { type Conversation, PreludeRefused, quote } from './conversation.js';

/** The name a client gives itself in EHLO: ours says what it is and resolves nowhere. */
const EHLO_NAME = 'chainwatch.invalid';

interface NumericReply {
  code: number;
  text: string;
}

/** A reply of SMTP or FTP: "250-first", …, "250 last"; FTP allows free text between. */
async function numericReply(c: Conversation, protocol: string): Promise<NumericReply> {
  const first = await c.line();
  const head = /^(\d{3})([ -]|$)/.exec(first);
  if (!head) throw new PreludeRefused(`answered ${quote(first)}, which is not an ${protocol} reply`);
  const lines = [first];
  if (head[2] === '-') {
    for (;;) {
      const line = await c.line();
      lines.push(line);
      if (/^\d{3}( |$)/.test(line)) break;
    }
  }
  return { code: Number(head[1]), text: lines.join(' / ') };
}

export async function smtp(c: Conversation): Promise<void> {
  const greeting = await numericReply(c, 'SMTP');
  if (greeting.code !== 220) throw new PreludeRefused(`greeted with ${quote(greeting.text)} instead of 220`);
  c.send(`EHLO ${EHLO_NAME}\r\n`);
  const ehlo = await numericReply(c, 'SMTP');
  if (ehlo.code !== 250) throw new PreludeRefused(`answered EHLO with ${quote(ehlo.text)}`);
  c.send('STARTTLS\r\n');
  const answer = await numericReply(c, 'SMTP');
  if (answer.code !== 220) throw new PreludeRefused(`answered STARTTLS with ${quote(answer.text)}`);
}

export async function ftp(c: Conversation): Promise<void> {
  const greeting = await numericReply(c, 'FTP');
  if (greeting.code !== 220) throw new PreludeRefused(`greeted with ${quote(greeting.text)} instead of 220`);
  c.send('AUTH TLS\r\n');
  const answer = await numericReply(c, 'FTP');
  if (answer.code !== 234) throw new PreludeRefused(`answered AUTH TLS with ${quote(answer.text)}`);
}

export async function imap(c: Conversation): Promise<void> {
  const greeting = await c.line();
  if (!/^\* (OK|PREAUTH)\b/i.test(greeting)) throw new PreludeRefused(`greeted with ${quote(greeting)} instead of * OK`);
  c.send('a1 STARTTLS\r\n');
  for (;;) {
    const line = await c.line();
    if (line.startsWith('* ')) continue; // untagged data may come first
    if (/^a1 OK\b/i.test(line)) return;
    throw new PreludeRefused(`answered STARTTLS with ${quote(line)}`);
  }
}

export async function pop3(c: Conversation): Promise<void> {
  const greeting = await c.line();
  if (!/^\+OK\b/.test(greeting)) throw new PreludeRefused(`greeted with ${quote(greeting)} instead of +OK`);
  c.send('STLS\r\n');
  const answer = await c.line();
  if (!/^\+OK\b/.test(answer)) throw new PreludeRefused(`answered STLS with ${quote(answer)}`);
}
