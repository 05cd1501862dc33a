// HTTP basic authentication against the web config's bcrypt hashes. An unknown user costs the
// same bcrypt comparison as a known one (against a dummy hash of the same cost), so timing does
// not reveal which users exist. Verified user+password pairs are remembered by a digest, so a
// scrape every 10 s does not pay bcrypt each time; a wrong password is never remembered.
import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

export const REALM = 'chainwatch';
const MAX_REMEMBERED = 1024;

export class BasicAuth {
  private readonly verified = new Set<string>();
  private readonly dummy: string;
  private readonly salt = randomBytes(16);

  constructor(private readonly users: ReadonlyMap<string, string>) {
    const cost = Number([...users.values()][0]?.slice(4, 6) ?? 10);
    this.dummy = bcrypt.hashSync(randomBytes(12).toString('hex'), cost);
  }

  /** True when the Authorization header names a user with the right password. */
  async allows(header: string | undefined): Promise<boolean> {
    const credentials = parseBasic(header);
    if (credentials === null) return false;
    const [user, password] = credentials;
    const key = createHash('sha256').update(this.salt).update(user).update('\0').update(password).digest('base64');
    if (this.verified.has(key)) return true;
    const hash = this.users.get(user);
    const ok = await bcrypt.compare(password, hash ?? this.dummy);
    if (!ok || hash === undefined) return false;
    if (this.verified.size >= MAX_REMEMBERED) this.verified.clear();
    this.verified.add(key);
    return true;
  }
}

function parseBasic(header: string | undefined): [string, string] | null {
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  if (m === null) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}
