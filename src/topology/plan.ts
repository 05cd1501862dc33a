// Topology → the targets, groups and policies a chainwatch config needs. Pure: no I/O, no YAML.
//
// Groups follow the certificate, which belongs to a server, not to a role: every role on a pool
// shares the pool's certificate, so a pool's group comes from the most significant role it runs.
// The internal groups are split by pool kind (front end, director, edge internal side, …) so that
// metrics and alerts say which kind of server diverged; one policy then ties them all to a single
// issuing CA, which is the rule Lync imposes.
import { TopologyError, type Machine, type Pool, type Port, type Service, type Topology } from './model.js';

export type PoolKind = 'frontend' | 'director' | 'edge' | 'pchat' | 'mediation' | 'owas' | 'other';

export const GROUPS = {
  frontend: 'lync-frontend',
  director: 'lync-director',
  edgeInternal: 'lync-edge-internal',
  pchat: 'lync-pchat',
  mediation: 'lync-mediation',
  edgeExternal: 'lync-edge-external',
  webExternal: 'lync-web-external',
  pchatWeb: 'pchat-web',
  owas: 'owas',
  other: 'lync-other',
} as const;

/** Groups whose servers Lync requires to hold certificates from one internal issuing CA. */
export const INTERNAL_GROUPS: readonly string[] = [GROUPS.frontend, GROUPS.director, GROUPS.edgeInternal, GROUPS.pchat, GROUPS.mediation];

export const GROUP_ORDER: readonly string[] = [
  GROUPS.frontend,
  GROUPS.director,
  GROUPS.edgeInternal,
  GROUPS.pchat,
  GROUPS.mediation,
  GROUPS.pchatWeb,
  GROUPS.webExternal,
  GROUPS.edgeExternal,
  GROUPS.owas,
  GROUPS.other,
];

export const POLICY_INTERNAL = 'lync-internal-same-ca';
export const POLICY_PCHAT_WEB = 'pchat-web-same-ca';

/** In Lync 2013 the Persistent Chat file upload/download service lives in the Front End's IIS. */
export const PCHAT_WEB_PATH = '/PersistentChat/MGCWebService.asmx';

/** A config with more targets than this would take longer than a scan interval to probe. */
export const MAX_TARGETS = 10_000;

const TLS_PROTOCOLS = new Set(['tls', 'mtls', 'https']);

export interface PlannedTarget {
  name: string;
  group: string;
  host: string;
  port: number;
  /** For URL targets (pchat-web); host and port then come from it. */
  url: string | null;
  address: string | null;
  resolve: 'first' | 'all';
  /** Lync role names served on this endpoint, sorted. */
  roles: string[];
  /** Protocols the topology gives the port (Tls, Mtls, Https). */
  protocols: string[];
  pool: Pool;
  poolKind: PoolKind;
  /** True for the pool-FQDN target, false for one server. */
  isPoolName: boolean;
  /** Remarks for the operator, rendered as comments on the target. */
  remarks: string[];
}

export interface PlannedPolicy {
  name: string;
  reference: string | null;
  members: string[];
}

export interface Plan {
  targets: PlannedTarget[];
  /** Groups that have targets, in GROUP_ORDER. */
  groups: string[];
  policies: PlannedPolicy[];
  siteNames: Map<string, string>;
  notes: string[];
}

function poolKind(services: Service[]): PoolKind {
  const roles = new Set(services.map((s) => (s.role === 'Registrar' && s.isDirector ? 'Director' : s.role)));
  if (roles.has('EdgeServer')) return 'edge';
  if (roles.has('Director')) return 'director';
  if (roles.has('Registrar')) return 'frontend';
  if (roles.has('PersistentChatService')) return 'pchat';
  if (roles.has('MediationServer')) return 'mediation';
  if (roles.has('WacService')) return 'owas';
  return 'other';
}

const INTERNAL_GROUP_OF: Record<PoolKind, string> = {
  frontend: GROUPS.frontend,
  director: GROUPS.director,
  edge: GROUPS.edgeInternal,
  pchat: GROUPS.pchat,
  mediation: GROUPS.mediation,
  owas: GROUPS.owas,
  other: GROUPS.other,
};

function roleLabel(service: Service): string {
  return service.role === 'Registrar' && service.isDirector ? 'Director' : service.role;
}

function isExternal(port: Port): boolean {
  return port.interfaceSide.toLowerCase() === 'external';
}

/** First DNS label, made safe for a target name. */
function shortName(fqdn: string): string {
  const label = fqdn.split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return label || 'host';
}

/** A word for what the port carries, for readable target names. */
function portKind(ports: Port[]): string {
  if (ports.some((p) => p.protocol.toLowerCase() === 'https' || /^web/i.test(p.usage))) return 'web';
  if (ports.some((p) => /sip/i.test(p.usage))) return 'sip';
  if (ports.some((p) => /psom|dataconf/i.test(`${p.usage} ${p.owner}`))) return 'psom';
  const usage = ports.map((p) => p.usage.toLowerCase().replace(/[^a-z0-9]+/g, '')).find((u) => u.length > 0);
  return usage ? usage.slice(0, 16) : 'tls';
}

interface Draft {
  key: string;
  label: string;
  group: string;
  host: string;
  port: number;
  url: string | null;
  address: string | null;
  isPoolName: boolean;
  roles: Set<string>;
  ports: Port[];
  pool: Pool;
  poolKind: PoolKind;
  remarks: string[];
}

class Drafts {
  readonly byKey = new Map<string, Draft>();

  add(d: Omit<Draft, 'key' | 'roles' | 'ports' | 'remarks'>, role: string, port: Port | null, remarks: string[] = []): void {
    const key = `${d.group === GROUPS.pchatWeb ? 'url' : 'tls'}|${d.host}|${d.port}|${d.address ?? ''}`;
    let draft = this.byKey.get(key);
    if (!draft) {
      if (this.byKey.size >= MAX_TARGETS) {
        throw new TopologyError(`the topology would give more than ${MAX_TARGETS} targets; split it or write the config by hand`);
      }
      draft = { ...d, key, roles: new Set(), ports: [], remarks: [] };
      this.byKey.set(key, draft);
    }
    // The same name can be both a pool and its only server (Standard Edition): probe it as a pool.
    draft.isPoolName ||= d.isPoolName;
    draft.roles.add(role);
    if (port) draft.ports.push(port);
    for (const r of remarks) if (!draft.remarks.includes(r)) draft.remarks.push(r);
  }
}

function edgeExternal(drafts: Drafts, pool: Pool, machine: Machine, port: Port, role: string): void {
  const iface =
    machine.interfaces.find((i) => i.side.toLowerCase() === 'external' && i.number === port.interfaceNumber) ??
    machine.interfaces.find((i) => i.side.toLowerCase() === 'external');
  const address = iface?.address ?? null;
  const remarks: string[] = [];
  if (!port.configuredFqdn) {
    remarks.push('the topology names no public FQDN for this port: set sni to the name on the external certificate (e.g. sip.<your domain>), or expect hostname_mismatch');
  }
  if (!address) {
    remarks.push(`the topology gives no external IP for ${machine.fqdn}: add address: <external interface IP>, or this probes the internal interface`);
  }
  drafts.add(
    {
      label: `${shortName(machine.fqdn)}-ext`,
      group: GROUPS.edgeExternal,
      host: port.configuredFqdn ?? machine.fqdn,
      port: port.port,
      url: null,
      address,
      isPoolName: false,
      pool,
      poolKind: 'edge',
    },
    role,
    port,
    remarks,
  );
}

/** Front End pools that host the web services of a Persistent Chat pool. */
function pchatFrontEnds(pchat: Service, services: Service[], pools: Map<string, Pool>, kinds: Map<string, PoolKind>): Pool[] {
  const frontEndPools = [...pools.values()].filter((p) => kinds.get(p.key) === 'frontend');
  const byId = new Map(services.map((s) => [s.id, s]));
  const named = pchat.dependsOn
    .map((id) => byId.get(id))
    .filter((s): s is Service => s !== undefined && s.poolKey !== null && kinds.get(s.poolKey) === 'frontend')
    .map((s) => pools.get(s.poolKey!)!);
  if (named.length > 0) return [...new Set(named)];
  const sameSite = frontEndPools.filter((p) => p.siteId === pchat.siteId);
  return sameSite.length > 0 ? sameSite : frontEndPools;
}

const KIND_ORDER: readonly PoolKind[] = ['frontend', 'director', 'edge', 'pchat', 'mediation', 'owas', 'other'];

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Code-point order: locale-independent, so the output is the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareDrafts(a: Draft, b: Draft, siteOrder: Map<string, number>): number {
  return (
    GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group) ||
    (siteOrder.get(a.pool.siteId) ?? 1e9) - (siteOrder.get(b.pool.siteId) ?? 1e9) ||
    KIND_ORDER.indexOf(a.poolKind) - KIND_ORDER.indexOf(b.poolKind) ||
    cmp(a.pool.fqdn, b.pool.fqdn) ||
    Number(b.isPoolName) - Number(a.isPoolName) ||
    cmp(a.label, b.label) ||
    a.port - b.port ||
    cmp(a.host, b.host) ||
    cmp(a.address ?? '', b.address ?? '')
  );
}

export function planTopology(topology: Topology): Plan {
  const notes = [...topology.notes];
  const pools = new Map(topology.pools.map((p) => [p.key, p]));
  const servicesOn = new Map<string, Service[]>();
  for (const s of topology.services) {
    if (s.poolKey === null) {
      if (s.ports.some((p) => TLS_PROTOCOLS.has(p.protocol.toLowerCase()))) notes.push(`service ${s.id} names no pool (InstalledOn/ClusterId): its ports are skipped`);
      continue;
    }
    if (!pools.has(s.poolKey)) {
      if (s.ports.some((p) => TLS_PROTOCOLS.has(p.protocol.toLowerCase()))) notes.push(`service ${s.id} is installed on pool ${s.poolKey}, which the topology does not define: its ports are skipped`);
      continue;
    }
    servicesOn.set(s.poolKey, [...(servicesOn.get(s.poolKey) ?? []), s]);
  }
  const kinds = new Map([...pools.keys()].map((k) => [k, poolKind(servicesOn.get(k) ?? [])]));

  const drafts = new Drafts();
  for (const [poolKey, services] of servicesOn) {
    const pool = pools.get(poolKey)!;
    const kind = kinds.get(poolKey)!;
    for (const service of services) {
      const role = roleLabel(service);
      for (const port of service.ports) {
        if (!TLS_PROTOCOLS.has(port.protocol.toLowerCase())) continue;
        if (isExternal(port) && kind === 'edge') {
          for (const m of pool.machines) edgeExternal(drafts, pool, m, port, role);
          continue;
        }
        // Front End and Director external web (4443) is published through a reverse proxy and
        // often carries a public certificate: not part of the internal one-CA rule.
        const group = isExternal(port) ? GROUPS.webExternal : INTERNAL_GROUP_OF[kind];
        const base = { group, port: port.port, url: null, address: null, pool, poolKind: kind };
        drafts.add({ ...base, label: shortName(pool.fqdn), host: pool.fqdn, isPoolName: true }, role, port);
        for (const m of pool.machines) drafts.add({ ...base, label: shortName(m.fqdn), host: m.fqdn, isPoolName: false }, role, port);
      }
    }
  }

  const pchatServices = topology.services.filter((s) => s.role === 'PersistentChatService' && s.poolKey !== null && pools.has(s.poolKey));
  for (const pchat of pchatServices) {
    const frontEnds = pchatFrontEnds(pchat, topology.services, pools, kinds);
    if (frontEnds.length === 0) {
      notes.push(`Persistent Chat pool ${pools.get(pchat.poolKey!)!.fqdn} has no Front End pool in this topology to host its web services: add pchat-web targets by hand`);
      continue;
    }
    for (const fe of frontEnds) {
      for (const host of [fe.fqdn, ...fe.machines.map((m) => m.fqdn)]) {
        drafts.add(
          {
            label: `${shortName(host)}-pchat`,
            group: GROUPS.pchatWeb,
            host,
            port: 443,
            url: `https://${host}${PCHAT_WEB_PATH}`,
            address: null,
            isPoolName: host === fe.fqdn,
            pool: fe,
            poolKind: 'frontend',
          },
          'PersistentChatWebServices',
          null,
        );
      }
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
  const planned: PlannedTarget[] = sorted.map((d) => {
    const base = d.group === GROUPS.pchatWeb ? `${d.label}-web` : `${d.label}-${portKind(d.ports)}-${d.port}`;
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return {
      name,
      group: d.group,
      host: d.host,
      port: d.port,
      url: d.url,
      address: d.address,
      resolve: d.isPoolName && d.address === null ? 'all' : 'first',
      roles: [...d.roles].sort(),
      protocols: [...new Set(d.ports.map((p) => p.protocol))].sort(),
      pool: d.pool,
      poolKind: d.poolKind,
      isPoolName: d.isPoolName,
      remarks: d.remarks,
    };
  });

  const groups = GROUP_ORDER.filter((g) => planned.some((t) => t.group === g));
  const policies: PlannedPolicy[] = [];
  if (groups.includes(GROUPS.pchatWeb) && groups.includes(GROUPS.frontend)) {
    policies.push({ name: POLICY_PCHAT_WEB, reference: GROUPS.frontend, members: [GROUPS.pchatWeb] });
  }
  const internal = groups.filter((g) => INTERNAL_GROUPS.includes(g));
  if (internal.length > 0) policies.push({ name: POLICY_INTERNAL, reference: null, members: internal });

  return { targets: planned, groups, policies, siteNames: new Map(topology.sites.map((s) => [s.id, s.name])), notes };
}
