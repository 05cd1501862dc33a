// Topology → the targets, groups and policies a chainwatch config needs. Pure: no I/O, no YAML.
//
// Targets follow certificates, not ports. A Lync server holds a few certificates, each bound to
// several ports: the Default certificate (SIP and the server-to-server MTLS ports, and the Edge's
// internal interface), the internal web certificate (443, where the Persistent Chat web services
// live on a Front End), the external web certificate (4443), and the Edge's public one. By default
// each certificate is probed once per server (its most telling port) and once on the pool name
// (resolve: all); `ports: 'all'` probes every TLS port instead. Every target carries `site` and
// `pool` labels, and the Lync rule is judged per site: a site may legitimately have its own
// issuing CA, while a Persistent Chat web service must match its own site's internal servers.
import type { Machine, Pool, Port, Service, Topology } from './model.js';
import { TopologyError } from './model.js';

export type PoolKind = 'frontend' | 'director' | 'edge' | 'pchat' | 'mediation' | 'sba' | 'owas' | 'other';

/** default: one representative port per certificate and server; all: every TLS port. */
export type PortsMode = 'default' | 'all';

export const GROUPS = {
  default: 'lync-default',
  webInternal: 'lync-web-internal',
  pchatWeb: 'pchat-web',
  webExternal: 'lync-web-external',
  edgeExternal: 'lync-edge-external',
  owas: 'owas',
  other: 'lync-other',
} as const;

/** Groups whose certificates Lync expects from the internal CA. */
export const INTERNAL_GROUPS: readonly string[] = [GROUPS.default, GROUPS.webInternal, GROUPS.pchatWeb];

export const GROUP_ORDER: readonly string[] = [
  GROUPS.default,
  GROUPS.webInternal,
  GROUPS.pchatWeb,
  GROUPS.webExternal,
  GROUPS.edgeExternal,
  GROUPS.owas,
  GROUPS.other,
];

export const POLICY_PCHAT_WEB = 'pchat-web-same-ca';
export const POLICY_INTERNAL = 'lync-internal-same-ca';
export const POLICY_INTERNAL_ROOT = 'lync-internal-same-root';

/** In Lync 2013 the Persistent Chat file upload/download service lives in the Front End's IIS. */
export const PCHAT_WEB_PATH = '/PersistentChat/MGCWebService.asmx';

/** XMPP federation on the Edge: TLS starts inside the XMPP stream (STARTTLS). */
const XMPP_PORT = 5269;

const TLS_PROTOCOLS = new Set(['tls', 'mtls', 'https']);

/** The port that best represents a certificate on a server, most telling first. */
const PREFERRED_PORTS = [5061, 5041, 5070, 443, 4443, 5067, 444, 5062, 8057];

export interface PlannedTarget {
  name: string;
  group: string;
  host: string;
  port: number;
  /** For URL targets (pchat-web); host and port then come from it. */
  url: string | null;
  /** Server name to send when it differs from host (external web FQDN, sip.<domain>). */
  sni: string | null;
  address: string | null;
  resolve: 'first' | 'all';
  /** xmpp for the Edge's XMPP federation port; null: TLS from the first byte. */
  starttls: 'xmpp' | null;
  /** Lync roles served with this certificate on this server, sorted. */
  roles: string[];
  /** Every TLS port of this certificate on this server, sorted; `port` is the one probed. */
  ports: number[];
  /** Protocols the topology gives those ports (Tls, Mtls, Https). */
  protocols: string[];
  pool: Pool;
  poolKind: PoolKind;
  /** The site's name: the `site` label. */
  site: string;
  /** True for the pool-FQDN target, false for one server. */
  isPoolName: boolean;
  /** Remarks for the operator, rendered as comments on the target. */
  remarks: string[];
}

export interface PlannedPolicy {
  name: string;
  reference: string | null;
  members: string[];
  match: 'issuer' | 'root';
  scope: string | null;
}

export interface Plan {
  targets: PlannedTarget[];
  /** Groups that have targets, in GROUP_ORDER. */
  groups: string[];
  policies: PlannedPolicy[];
  siteNames: Map<string, string>;
  ports: PortsMode;
  notes: string[];
}

export interface PlanOptions {
  ports?: PortsMode;
}

function roleLabel(service: Service): string {
  return service.role === 'Registrar' && service.isDirector ? 'Director' : service.role;
}

function poolKind(services: Service[], branch: boolean): PoolKind {
  const roles = new Set(services.map(roleLabel));
  if (roles.has('EdgeServer')) return 'edge';
  if (roles.has('Director')) return 'director';
  if (roles.has('Registrar')) return branch ? 'sba' : 'frontend';
  if (roles.has('PersistentChatService')) return 'pchat';
  if (roles.has('MediationServer')) return 'mediation';
  if (roles.has('WacService')) return 'owas';
  return 'other';
}

function isExternal(port: Port): boolean {
  return port.interfaceSide.toLowerCase() === 'external';
}

/** First DNS label, made safe for a target name. */
function shortName(fqdn: string): string {
  const label = fqdn
    .split('.')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return label || 'host';
}

function rank(port: number): number {
  const i = PREFERRED_PORTS.indexOf(port);
  return i >= 0 ? i : PREFERRED_PORTS.length + port / 65536;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Code-point order: locale-independent, so the output is the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface DraftSpec {
  group: string;
  host: string;
  port: number;
  url: string | null;
  sni: string | null;
  address: string | null;
  starttls: 'xmpp' | null;
  isPoolName: boolean;
  pool: Pool;
  poolKind: PoolKind;
  /** Readable stem of the target name: server or pool short name plus the certificate. */
  stem: string;
}

interface Draft extends DraftSpec {
  roles: Set<string>;
  ports: Set<number>;
  protocols: Set<string>;
  remarks: string[];
}

class Drafts {
  readonly byKey = new Map<string, Draft>();

  constructor(private readonly mode: PortsMode) {}

  add(spec: DraftSpec, role: string, port: Port | null, remarks: string[] = []): void {
    // One certificate per (group, name, SNI, address); with every port, one target per port.
    // A STARTTLS port is its own target: what XMPP partners see, reached another way.
    const key = [spec.group, spec.url ?? spec.host, spec.sni ?? '', spec.address ?? '', spec.starttls ?? '', this.mode === 'all' ? spec.port : ''].join('|');
    let draft = this.byKey.get(key);
    if (!draft) {
      draft = { ...spec, roles: new Set(), ports: new Set(), protocols: new Set(), remarks: [] };
      this.byKey.set(key, draft);
    } else if (rank(spec.port) < rank(draft.port)) draft.port = spec.port;
    // The same name can be both a pool and its only server (Standard Edition): probe it as a pool.
    draft.isPoolName ||= spec.isPoolName;
    draft.roles.add(role);
    draft.ports.add(spec.port);
    if (port) draft.protocols.add(port.protocol);
    for (const r of remarks) if (!draft.remarks.includes(r)) draft.remarks.push(r);
  }
}

const KIND_NAMES: Record<PoolKind, string> = {
  frontend: 'Front End',
  director: 'Director',
  edge: 'Edge',
  pchat: 'Persistent Chat',
  mediation: 'Mediation',
  sba: 'Survivable Branch Appliance',
  owas: 'Office Web Apps',
  other: 'other',
};

export function planTopology(topology: Topology, options: PlanOptions = {}): Plan {
  const mode = options.ports ?? 'default';
  const notes = [...topology.notes];
  const pools = new Map(topology.pools.map((p) => [p.key, p]));
  const siteNames = new Map(topology.sites.map((s) => [s.id, s.name]));
  const branchSites = new Set(topology.sites.filter((s) => s.branch).map((s) => s.id));
  const siteOf = (pool: Pool): string => siteNames.get(pool.siteId) ?? `site ${pool.siteId}`;

  const servicesOn = new Map<string, Service[]>();
  for (const s of topology.services) {
    const hasTls = s.ports.some((p) => TLS_PROTOCOLS.has(p.protocol.toLowerCase()));
    if (s.poolKey === null) {
      if (hasTls) notes.push(`service ${s.id} names no pool (InstalledOn/ClusterId): its ports are skipped`);
      continue;
    }
    if (!pools.has(s.poolKey)) {
      if (hasTls) notes.push(`service ${s.id} is installed on pool ${s.poolKey}, which the topology does not define: its ports are skipped`);
      continue;
    }
    servicesOn.set(s.poolKey, [...(servicesOn.get(s.poolKey) ?? []), s]);
  }
  const kinds = new Map([...pools.keys()].map((k) => [k, poolKind(servicesOn.get(k) ?? [], branchSites.has(pools.get(k)!.siteId))]));

  const pchatHosts = tiePersistentChat(topology, pools, kinds, siteOf, notes);
  const drafts = new Drafts(mode);

  for (const [poolKey, services] of servicesOn) {
    const pool = pools.get(poolKey)!;
    const kind = kinds.get(poolKey)!;
    const externalWeb = services.map((s) => s.externalWebFqdn).find((f) => f !== null) ?? null;
    for (const service of services) {
      const role = roleLabel(service);
      for (const port of service.ports) {
        if (!TLS_PROTOCOLS.has(port.protocol.toLowerCase())) continue;
        const https = port.protocol.toLowerCase() === 'https';
        if (kind === 'edge' && isExternal(port)) {
          for (const m of pool.machines) edgeExternal(drafts, pool, m, port, role);
          continue;
        }
        if (kind === 'owas') {
          owas(drafts, pool, service, port, role);
          continue;
        }
        if (isExternal(port)) {
          // The external web services carry the external web FQDN, not the pool name: send it as
          // SNI so the hostname check means something, and connect to the server by its own name.
          const sni = externalWeb ?? port.configuredFqdn;
          const remarks = sni
            ? []
            : [
                `the topology names no external web FQDN for ${pool.fqdn} (WebServices ExternalSettings Host): set sni to the name on its external web certificate, or expect hostname_mismatch`,
              ];
          perServer(drafts, { group: GROUPS.webExternal, pool, kind, port: port.port, sni, suffix: 'web-ext' }, role, port, remarks);
          continue;
        }
        if (https && pchatHosts.has(poolKey)) continue; // the same certificate, probed as the Persistent Chat web services below
        if (https && kind !== 'edge' && kind !== 'other') {
          perServer(drafts, { group: GROUPS.webInternal, pool, kind, port: port.port, sni: null, suffix: 'web' }, role, port);
          continue;
        }
        if (kind === 'other') {
          perServer(drafts, { group: GROUPS.other, pool, kind, port: port.port, sni: null, suffix: 'tls' }, role, port);
          continue;
        }
        const remarks: string[] = [];
        let sni: string | null = null;
        if (kind === 'sba') {
          if (topology.sipDomain) {
            sni = `sip.${topology.sipDomain}`;
            remarks.push(
              `a branch-site registrar: a Survivable Branch Appliance's certificate names ${sni}, so that is the name checked; for a Survivable Branch Server (which names itself) remove sni`,
            );
          } else {
            remarks.push(
              "a branch-site registrar: a Survivable Branch Appliance's certificate names sip.<your SIP domain>, which the topology does not give (no InternalDomains DefaultDomain): add sni: sip.<your SIP domain>, or expect hostname_mismatch",
            );
          }
        }
        perServer(drafts, { group: GROUPS.default, pool, kind, port: port.port, sni, suffix: kind === 'edge' ? 'int' : 'default' }, role, port, remarks);
      }
    }
  }

  for (const poolKey of pchatHosts) {
    const fe = pools.get(poolKey)!;
    // The internal web port is 443 unless the topology overrides it.
    const web = (servicesOn.get(poolKey) ?? []).flatMap((s) => s.ports).find((p) => !isExternal(p) && p.protocol.toLowerCase() === 'https')?.port ?? 443;
    for (const host of [fe.fqdn, ...fe.machines.map((m) => m.fqdn)]) {
      drafts.add(
        {
          group: GROUPS.pchatWeb,
          host,
          port: web,
          url: `https://${host}${web === 443 ? '' : `:${web}`}${PCHAT_WEB_PATH}`,
          sni: null,
          address: null,
          starttls: null,
          isPoolName: host === fe.fqdn,
          pool: fe,
          poolKind: kinds.get(poolKey)!,
          stem: `${shortName(host)}-pchat-web`,
        },
        'PersistentChatWebServices',
        null,
      );
    }
  }

  if (drafts.byKey.size === 0) {
    throw new TopologyError(
      `the topology lists no TLS port (Protocol Tls, Mtls or Https) on any defined pool (${count(topology.pools.length, 'pool')}, ${count(topology.services.length, 'service')}): nothing to watch`,
    );
  }

  const siteOrder = new Map(topology.sites.map((s, i) => [s.id, i]));
  // Names are given after sorting so that they do not depend on the order of the XML.
  const sorted = [...drafts.byKey.values()].sort((a, b) => compareDrafts(a, b, siteOrder));
  const used = new Set<string>();
  const targets: PlannedTarget[] = sorted.map((d) => {
    const base = d.url !== null ? d.stem : `${d.stem}-${d.port}`;
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return {
      name,
      group: d.group,
      host: d.host,
      port: d.port,
      url: d.url,
      sni: d.sni,
      address: d.address,
      resolve: d.isPoolName && d.address === null ? 'all' : 'first',
      starttls: d.starttls,
      roles: [...d.roles].sort(cmp),
      ports: [...d.ports].sort((a, b) => a - b),
      protocols: [...d.protocols].sort(cmp),
      pool: d.pool,
      poolKind: d.poolKind,
      site: siteOf(d.pool),
      isPoolName: d.isPoolName,
      remarks: d.remarks,
    };
  });

  const groups = GROUP_ORDER.filter((g) => targets.some((t) => t.group === g));
  return { targets, groups, policies: policiesFor(groups, targets), siteNames, ports: mode, notes };
}

/**
 * The Lync rule, per site: Persistent Chat web services against the Default certificates of their
 * own site (never against themselves); the other internal web services likewise; and, across
 * sites, one root, because each site may have its own issuing CA under the organisation's root.
 */
function policiesFor(groups: string[], targets: PlannedTarget[]): PlannedPolicy[] {
  const policies: PlannedPolicy[] = [];
  const has = (g: string): boolean => groups.includes(g);
  if (has(GROUPS.pchatWeb) && has(GROUPS.default)) {
    policies.push({ name: POLICY_PCHAT_WEB, reference: GROUPS.default, members: [GROUPS.pchatWeb], match: 'issuer', scope: 'site' });
  }
  if (has(GROUPS.webInternal) && has(GROUPS.default)) {
    policies.push({ name: POLICY_INTERNAL, reference: GROUPS.default, members: [GROUPS.webInternal], match: 'issuer', scope: 'site' });
  } else if (has(GROUPS.default) && !has(GROUPS.pchatWeb)) {
    policies.push({ name: POLICY_INTERNAL, reference: null, members: [GROUPS.default], match: 'issuer', scope: 'site' });
  }
  const internal = groups.filter((g) => INTERNAL_GROUPS.includes(g));
  const sites = new Set(targets.filter((t) => internal.includes(t.group)).map((t) => t.site));
  if (sites.size > 1) policies.push({ name: POLICY_INTERNAL_ROOT, reference: null, members: internal, match: 'root', scope: null });
  return policies;
}

interface PerServer {
  group: string;
  pool: Pool;
  kind: PoolKind;
  port: number;
  sni: string | null;
  suffix: string;
}

/** The pool name (every address behind it) and each of its servers by name. */
function perServer(drafts: Drafts, o: PerServer, role: string, port: Port, remarks: string[] = []): void {
  const base = { group: o.group, port: o.port, url: null, sni: o.sni, starttls: null, pool: o.pool, poolKind: o.kind };
  drafts.add({ ...base, host: o.pool.fqdn, address: null, isPoolName: true, stem: `${shortName(o.pool.fqdn)}-${o.suffix}` }, role, port, remarks);
  for (const m of o.pool.machines) {
    // Edge servers are rarely in internal DNS; the topology gives their internal address.
    const address = o.kind === 'edge' ? (m.interfaces.find((i) => i.side.toLowerCase() !== 'external')?.address ?? null) : null;
    drafts.add({ ...base, host: m.fqdn, address, isPoolName: false, stem: `${shortName(m.fqdn)}-${o.suffix}` }, role, port, remarks);
  }
}

function edgeExternal(drafts: Drafts, pool: Pool, machine: Machine, port: Port, role: string): void {
  const externals = machine.interfaces.filter((i) => i.side.toLowerCase() === 'external');
  const iface = externals.find((i) => i.number === port.interfaceNumber) ?? externals[0];
  // Behind NAT the topology records the public address as ConfiguredIPAddress.
  const address = iface?.configuredAddress ?? iface?.address ?? null;
  const host = port.configuredFqdn ?? machine.fqdn;
  const xmpp = port.port === XMPP_PORT;
  const remarks: string[] = xmpp
    ? ['XMPP federation: chainwatch speaks XMPP (server-to-server) up to STARTTLS, then reads the chain XMPP partners are shown']
    : [];
  if (!port.configuredFqdn) {
    remarks.push(
      `the topology names no public FQDN for this port: set sni to the name on the external certificate (e.g. sip.<your SIP domain>), or expect hostname_mismatch`,
    );
  }
  if (!address) {
    remarks.push(
      `the topology gives no public IP for this interface of ${machine.fqdn}: add address: <its public IP>; without it chainwatch connects to whatever ${host} resolves to from where it runs`,
    );
  }
  drafts.add(
    {
      group: GROUPS.edgeExternal,
      host,
      port: port.port,
      url: null,
      sni: null,
      address,
      starttls: xmpp ? 'xmpp' : null,
      isPoolName: false,
      pool,
      poolKind: 'edge',
      stem: `${shortName(machine.fqdn)}-ext${externals.length > 1 ? port.interfaceNumber : ''}${xmpp ? '-xmpp' : ''}`,
    },
    role,
    port,
    remarks,
  );
}

function owas(drafts: Drafts, pool: Pool, service: Service, port: Port, role: string): void {
  const host = service.discoveryHost ?? pool.fqdn;
  const remarks = service.discoveryHost
    ? []
    : [
        `the topology gives no DiscoveryUrl for Office Web Apps ${pool.fqdn}: probed by the farm's pool name; set host to the name in its discovery URL if they differ`,
      ];
  drafts.add(
    {
      group: GROUPS.owas,
      host,
      port: port.port,
      url: null,
      sni: null,
      address: null,
      starttls: null,
      isPoolName: true,
      pool,
      poolKind: 'owas',
      stem: `${shortName(host)}-owas`,
    },
    role,
    port,
    remarks,
  );
}

/**
 * Keys of the Front End pools that host Persistent Chat web services: the Front End a chat pool
 * depends on, else those of its site, else the only one there is. Anything less certain is a
 * note, never a guess.
 */
function tiePersistentChat(
  topology: Topology,
  pools: Map<string, Pool>,
  kinds: Map<string, PoolKind>,
  siteOf: (pool: Pool) => string,
  notes: string[],
): Set<string> {
  const hosts = new Set<string>();
  const frontEnds = [...pools.values()].filter((p) => kinds.get(p.key) === 'frontend');
  const byId = new Map(topology.services.map((s) => [s.id, s]));
  const chats = topology.services.filter((s) => s.role === 'PersistentChatService' && s.poolKey !== null && pools.has(s.poolKey));
  for (const chat of chats) {
    const chatPool = pools.get(chat.poolKey!)!;
    const what = `Persistent Chat pool ${chatPool.fqdn} (site ${siteOf(chatPool)})`;
    const named = [
      ...new Set(
        chat.dependsOn
          .map((id) => byId.get(id))
          .filter((s): s is Service => s !== undefined && s.poolKey !== null && kinds.get(s.poolKey) === 'frontend')
          .map((s) => pools.get(s.poolKey!)!),
      ),
    ];
    const sameSite = frontEnds.filter((p) => p.siteId === chatPool.siteId);
    let tied: Pool[];
    if (named.length > 0) {
      tied = named;
      const elsewhere = named.filter((p) => p.siteId !== chatPool.siteId);
      if (elsewhere.length > 0) {
        notes.push(
          `${what} has its web services on Front End pool ${elsewhere.map((p) => `${p.fqdn} (site ${siteOf(p)})`).join(', ')}, the pool it depends on in the topology; they are judged against that site's internal servers`,
        );
      }
    } else if (sameSite.length > 0) {
      tied = sameSite;
      if (sameSite.length > 1) {
        notes.push(
          `${what} names no Front End pool it depends on; its web services were added on every Front End pool of its site (${sameSite.map((p) => p.fqdn).join(', ')}): remove the pchat-web targets of the pools that do not host them`,
        );
      }
    } else if (frontEnds.length === 1) {
      tied = frontEnds;
      notes.push(
        `${what} names no Front End pool it depends on and its site has none; its web services were tied to ${frontEnds[0]!.fqdn} (site ${siteOf(frontEnds[0]!)}), the only Front End pool in the topology`,
      );
    } else {
      notes.push(
        frontEnds.length === 0
          ? `${what}: the topology has no Front End pool to host its web services: add pchat-web targets by hand`
          : `${what} names no Front End pool it depends on and its site has none, so which pool hosts its web services is unknown (candidates: ${frontEnds.map((p) => p.fqdn).join(', ')}): add pchat-web targets for that pool by hand`,
      );
      continue;
    }
    for (const p of tied) hosts.add(p.key);
  }
  return hosts;
}

const KIND_ORDER: readonly PoolKind[] = ['frontend', 'director', 'edge', 'pchat', 'mediation', 'sba', 'owas', 'other'];

function compareDrafts(a: Draft, b: Draft, siteOrder: Map<string, number>): number {
  return (
    GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group) ||
    (siteOrder.get(a.pool.siteId) ?? 1e9) - (siteOrder.get(b.pool.siteId) ?? 1e9) ||
    cmp(a.pool.siteId, b.pool.siteId) ||
    KIND_ORDER.indexOf(a.poolKind) - KIND_ORDER.indexOf(b.poolKind) ||
    cmp(a.pool.fqdn, b.pool.fqdn) ||
    Number(b.isPoolName) - Number(a.isPoolName) ||
    cmp(a.stem, b.stem) ||
    a.port - b.port ||
    cmp(a.host, b.host) ||
    cmp(a.address ?? '', b.address ?? '')
  );
}

export function kindName(kind: PoolKind): string {
  return KIND_NAMES[kind];
}
