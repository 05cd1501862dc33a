// Topology XML text → Topology model. Bounded and tolerant of namespace prefixes; every way the
// input can be wrong ends in a TopologyError that names the input and says what to do.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ipLiteral, isHostname } from '../config/net.js';
import { type Machine, type NetInterface, type Pool, type Port, type Service, type Site, type Topology, TopologyError } from './model.js';

/** Real topologies are a few megabytes; anything this large is not one, and is refused before parsing. */
export const MAX_TOPOLOGY_CHARS = 50 * 1024 * 1024;

const HOW_TO_EXPORT = 'export it on a Lync server with: (Get-CsTopology -AsXml).ToString() | Out-File -Encoding utf8 topology.xml';

// Elements that may repeat; the parser would otherwise give a lone child as an object.
const REPEATED = new Set(['CentralSite', 'BranchSite', 'Cluster', 'Machine', 'NetInterface', 'Service', 'Port', 'Dependency', 'ClusterId']);

type XmlNode = Record<string, unknown>;

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Child elements of a name, always as a list (a lone child, a list, or nothing). */
function children(node: unknown, name: string): XmlNode[] {
  if (!isNode(node)) return [];
  const value = node[name];
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  // `<Machine/>` with no attributes parses as '', which still counts as an element.
  return items.map((item) => (isNode(item) ? item : {}));
}

function child(node: unknown, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

function attr(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[`@_${name}`];
  return typeof value === 'string' ? value.trim() : undefined;
}

function text(node: unknown, name: string): string | undefined {
  if (!isNode(node)) return undefined;
  const value = node[name];
  if (typeof value === 'string') return value.trim();
  if (isNode(value) && typeof value['#text'] === 'string') return value['#text'].trim();
  return undefined;
}

function fqdnOf(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const name = raw.toLowerCase().replace(/\.$/, '');
  return isHostname(name) ? name : null;
}

/** A usable IP address; null for 0.0.0.0 / :: ("any"), nothing, or something that is no address. */
function specificAddress(raw: string | undefined): string | null {
  const ip = raw === undefined ? null : ipLiteral(raw);
  return ip === null || ip === '0.0.0.0' || ip === '::' ? null : ip;
}

function clusterKey(clusterId: XmlNode | undefined): string | null {
  const site = attr(clusterId, 'SiteId');
  const number = attr(clusterId, 'Number');
  return site && number ? `${site}:${number}` : null;
}

function readSites(root: XmlNode): Site[] {
  const sites = child(root, 'Sites');
  const read =
    (branch: boolean) =>
    (s: XmlNode): Site[] => {
      const id = attr(s, 'SiteId');
      return id ? [{ id, name: text(s, 'Name') || `site ${id}`, branch }] : [];
    };
  return [...children(sites, 'CentralSite').flatMap(read(false)), ...children(sites, 'BranchSite').flatMap(read(true))];
}

function readPools(root: XmlNode, notes: string[]): Pool[] {
  const pools: Pool[] = [];
  for (const cluster of children(child(root, 'Clusters'), 'Cluster')) {
    const key = clusterKey(child(cluster, 'ClusterId'));
    const rawFqdn = attr(cluster, 'Fqdn');
    if (!key) {
      notes.push(`pool ${rawFqdn ?? '(no Fqdn)'} has no ClusterId (SiteId, Number): skipped`);
      continue;
    }
    const fqdn = fqdnOf(rawFqdn);
    if (!fqdn) {
      notes.push(`pool ${key} has no valid Fqdn (${rawFqdn === undefined ? 'missing' : `'${rawFqdn}'`}): skipped`);
      continue;
    }
    const machines: Machine[] = [];
    for (const m of children(cluster, 'Machine')) {
      const raw = attr(m, 'Fqdn');
      const machineFqdn = fqdnOf(raw);
      if (!machineFqdn) {
        notes.push(`a server of pool ${fqdn} has no valid Fqdn (${raw === undefined ? 'missing' : `'${raw}'`}): skipped`);
        continue;
      }
      const interfaces: NetInterface[] = children(m, 'NetInterface').map((n) => ({
        side: attr(n, 'InterfaceSide') ?? 'Primary',
        number: attr(n, 'InterfaceNumber') ?? '1',
        address: specificAddress(attr(n, 'IPAddress')),
        configuredAddress: specificAddress(attr(n, 'ConfiguredIPAddress')),
      }));
      if (!machines.some((x) => x.fqdn === machineFqdn)) machines.push({ fqdn: machineFqdn, interfaces });
    }
    if (pools.some((p) => p.key === key)) {
      notes.push(`pool ${fqdn} repeats ClusterId ${key}: the second definition is ignored`);
      continue;
    }
    pools.push({ key, siteId: key.split(':')[0]!, fqdn, machines });
  }
  return pools;
}

function readPorts(service: XmlNode, where: string, notes: string[]): Port[] {
  const ports: Port[] = [];
  for (const p of children(child(service, 'Ports'), 'Port')) {
    const raw = attr(p, 'Port');
    const port = raw !== undefined && /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      notes.push(`${where}: port '${raw ?? ''}' is not a port number: skipped`);
      continue;
    }
    ports.push({
      port,
      protocol: attr(p, 'Protocol') ?? '',
      usage: attr(p, 'Usage') ?? '',
      owner: attr(p, 'Owner') ?? '',
      interfaceSide: attr(p, 'InterfaceSide') ?? 'Primary',
      interfaceNumber: attr(p, 'InterfaceNumber') ?? '1',
      urlPath: attr(p, 'UrlPath') ?? '/',
      configuredFqdn: fqdnOf(attr(p, 'ConfiguredFqdn')),
    });
  }
  return ports;
}

function urlHost(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    return fqdnOf(new URL(raw).hostname);
  } catch {
    return null;
  }
}

function serviceIdOf(node: XmlNode | undefined): string | null {
  const site = attr(node, 'SiteId');
  const role = attr(node, 'RoleName');
  const instance = attr(node, 'Instance');
  return site && role && instance ? `${site}-${role}-${instance}` : null;
}

function readServices(root: XmlNode, notes: string[]): Service[] {
  const services: Service[] = [];
  for (const s of children(child(root, 'Services'), 'Service')) {
    const sid = child(s, 'ServiceId');
    const role = attr(sid, 'RoleName');
    const id = serviceIdOf(sid);
    if (!role || !id) {
      notes.push(`a service without ServiceId/@RoleName (type ${attr(s, 'Type') ?? 'unknown'}): skipped`);
      continue;
    }
    // Dependencies appear both as an attribute (ServiceId="1-Registrar-1") and as a child element.
    const dependsOn = children(child(s, 'DependsOn'), 'Dependency').flatMap((d) => {
      const ref = attr(d, 'ServiceId') ?? serviceIdOf(child(d, 'ServiceId'));
      return ref ? [ref] : [];
    });
    services.push({
      id,
      role,
      siteId: attr(sid, 'SiteId')!,
      isDirector: attr(child(s, 'RegistrarService'), 'IsDirector')?.toLowerCase() === 'true',
      poolKey: clusterKey(child(child(s, 'InstalledOn'), 'ClusterId')),
      ports: readPorts(s, `service ${id}`, notes),
      dependsOn,
      externalWebFqdn: fqdnOf(attr(child(child(s, 'WebService'), 'ExternalSettings'), 'Host')),
      discoveryHost: urlHost(attr(child(s, 'WacService'), 'DiscoveryUrl')),
    });
  }
  return services;
}

function parser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (name) => REPEATED.has(name),
  });
}

/** Parses `(Get-CsTopology -AsXml).ToString()` output. `source` names the input in messages. */
export function parseTopology(xml: string, source = 'the topology'): Topology {
  if (xml.length > MAX_TOPOLOGY_CHARS) {
    throw new TopologyError(
      `${source}: is ${xml.length} characters; a Lync topology export is a few megabytes at most (limit ${MAX_TOPOLOGY_CHARS}). Is this the right file?`,
    );
  }
  const body = xml.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new TopologyError(`${source}: is empty; ${HOW_TO_EXPORT}`);
  if (body.includes('\u0000')) {
    throw new TopologyError(`${source}: contains NUL bytes (binary or UTF-16 text read as UTF-8?); save it as UTF-8: ${HOW_TO_EXPORT}`);
  }
  // Topology exports never carry a DTD; refusing one rules out entity expansion and external entities.
  if (/<!DOCTYPE/i.test(body)) {
    throw new TopologyError(
      `${source}: has a <!DOCTYPE> declaration, which a Lync topology export never has; chainwatch does not process DTDs or entities. Remove it or re-export: ${HOW_TO_EXPORT}`,
    );
  }
  const check = XMLValidator.validate(body);
  if (check !== true) {
    const { line, col, msg } = check.err;
    const where = col === undefined ? `${source}:${line}` : `${source}:${line}:${col}`;
    throw new TopologyError(`${where}: not well-formed XML: ${msg} If the file was cut short or edited, ${HOW_TO_EXPORT}`);
  }
  let doc: XmlNode;
  try {
    doc = parser().parse(body) as XmlNode;
  } catch (err) {
    throw new TopologyError(
      `${source}: cannot be parsed as XML: ${(err as Error).message} (a topology export is a handful of levels deep and plain elements and attributes)`,
    );
  }
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (roots.length !== 1) {
    throw new TopologyError(
      `${source}: ${roots.length === 0 ? 'has no root element' : `has ${roots.length} root elements (${roots.join(', ')})`}; expected one <Topology> element: ${HOW_TO_EXPORT}`,
    );
  }
  const rootName = roots[0]!;
  if (Array.isArray(doc[rootName])) {
    throw new TopologyError(`${source}: has several <${rootName}> root elements; expected one <Topology> element (were two exports pasted into one file?)`);
  }
  if (rootName !== 'Topology') {
    throw new TopologyError(
      `${source}: is XML but not a Lync topology export: the root element is <${rootName}>, expected <Topology> (namespace urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008). Topology Builder .tbxml files are not supported; ${HOW_TO_EXPORT}`,
    );
  }
  const root = isNode(doc[rootName]) ? (doc[rootName] as XmlNode) : {};
  if (child(root, 'Clusters') === undefined && child(root, 'Services') === undefined) {
    throw new TopologyError(`${source}: the <Topology> element has neither <Clusters> nor <Services>; this is not a complete export: ${HOW_TO_EXPORT}`);
  }
  const notes: string[] = [];
  return {
    sites: readSites(root),
    sipDomain: fqdnOf(attr(child(root, 'InternalDomains'), 'DefaultDomain')),
    pools: readPools(root, notes),
    services: readServices(root, notes),
    notes,
  };
}
