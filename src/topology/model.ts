// What the importer keeps from a Lync topology: pools, their servers, and the ports each role
// listens on. Everything else in the export (SQL stores, dial plans, signatures) is irrelevant
// to certificate chains and is dropped at parse time.

export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}

export interface Site {
  id: string;
  name: string;
  /** A BranchSite: its registrars are Survivable Branch Appliances or Servers. */
  branch: boolean;
}

export interface NetInterface {
  /** Primary (internal) or External (an Edge server's internet-facing side). */
  side: string;
  number: string;
  /** A specific IP address, or null when the topology says 0.0.0.0 (any) or nothing. */
  address: string | null;
  /** The public (NAT) address of an Edge's external interface, when the topology records it. */
  configuredAddress: string | null;
}

export interface Machine {
  fqdn: string;
  interfaces: NetInterface[];
}

/** A Lync pool: the `Cluster` element. Standard Edition is a pool of one. */
export interface Pool {
  /** `SiteId:Number` of its ClusterId; services point at pools by this key. */
  key: string;
  siteId: string;
  fqdn: string;
  machines: Machine[];
}

export interface Port {
  port: number;
  /** As written in the topology: Tls, Mtls, Https, Http, Tcp, Udp, … */
  protocol: string;
  usage: string;
  owner: string;
  interfaceSide: string;
  interfaceNumber: string;
  urlPath: string;
  /** The published name of an externally facing port, when the topology records one. */
  configuredFqdn: string | null;
}

export interface Service {
  /** `SiteId-RoleName-Instance`, the form dependencies use. */
  id: string;
  role: string;
  siteId: string;
  /** Registrar with IsDirector="true". */
  isDirector: boolean;
  /** Key of the pool it is installed on; null when the topology does not say. */
  poolKey: string | null;
  ports: Port[];
  /** Ids of the services this one depends on (a Persistent Chat pool names its Front End here). */
  dependsOn: string[];
  /** Web services: the external web FQDN (ExternalSettings Host), when the topology records it. */
  externalWebFqdn: string | null;
  /** Office Web Apps: the host of its DiscoveryUrl. */
  discoveryHost: string | null;
}

export interface Topology {
  sites: Site[];
  /** The default SIP domain (InternalDomains/@DefaultDomain), for names like sip.<domain>. */
  sipDomain: string | null;
  pools: Pool[];
  services: Service[];
  /** Things the operator should know about the input: skipped elements and why. */
  notes: string[];
}
