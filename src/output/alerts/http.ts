// One JSON POST with a hard deadline, reduced to what the retry logic needs to know. Receivers
// are other people's servers: bodies are read only up to a small limit, and nothing here ever
// throws.

import { request } from 'undici';

/** Enough of an error body for a log line and to recognise a throttling reply. */
const MAX_RESPONSE_BYTES = 4096;

export interface PostOutcome {
  ok: boolean;
  /** Worth trying again: a network error, a timeout, 5xx, 408 or 429. */
  retryable: boolean;
  status: number | null;
  /** From Retry-After, when the receiver sent one. */
  retryAfterMs: number | null;
  /** The start of the response body (for logs and throttling checks). */
  body: string;
  /** What went wrong, for a log line; null on success. Never contains the URL path. */
  error: string | null;
}

export interface PostOptions {
  timeoutMs: number;
  /** Aborts the request early (shutdown). */
  signal?: AbortSignal;
}

/** Where to send and how to authenticate, with credentials taken out of the URL. */
export interface Endpoint {
  url: string;
  headers: Record<string, string>;
}

/** `https://user:pass@host/x` → URL without credentials plus a Basic Authorization header. */
export function endpointFromUrl(raw: string): Endpoint {
  const u = new URL(raw);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'chainwatch' };
  if (u.username !== '' || u.password !== '') {
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { url: u.href, headers };
}

export async function postJson(ep: Endpoint, body: string, opts: PostOptions): Promise<PostOutcome> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  try {
    const res = await request(ep.url, {
      method: 'POST',
      headers: ep.headers,
      body,
      signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    const text = await readSome(res.body);
    const status = res.statusCode;
    const ok = status >= 200 && status < 300;
    return {
      ok,
      retryable: !ok && (status >= 500 || status === 408 || status === 429),
      status,
      retryAfterMs: ok ? null : parseRetryAfter(res.headers['retry-after'], Date.now()),
      body: text,
      error: ok ? null : `HTTP ${status}${text ? `: ${oneLine(text)}` : ''}`,
    };
  } catch (err) {
    const timedOut = timeout.aborted;
    const aborted = !timedOut && opts.signal?.aborted === true;
    return {
      ok: false,
      retryable: !aborted,
      status: null,
      retryAfterMs: null,
      body: '',
      error: timedOut ? `no answer within ${opts.timeoutMs} ms` : aborted ? 'aborted at shutdown' : describeNetworkError(err),
    };
  }
}

async function readSome(body: AsyncIterable<Buffer> & { destroy?: () => void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_RESPONSE_BYTES) break;
    }
  } catch {
    // A body that breaks off after the status line still tells us the status.
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : null;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name lookup failed (temporary)',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    UND_ERR_SOCKET: 'connection closed by the receiver',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
    UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
    UND_ERR_BODY_TIMEOUT: 'answer stalled',
  };
  if (code && known[code]) return known[code];
  const msg = typeof e.message === 'string' ? e.message : String(err);
  return code ? `${code}: ${oneLine(msg)}` : oneLine(msg);
}

/** Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return null;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  // An HTTP date names its month ("Sun, 01 Jun 2025 12:00:30 GMT"); Date.parse would also take "-5".
  if (!/[a-z]{3}/i.test(t)) return null;
  const at = Date.parse(t);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
