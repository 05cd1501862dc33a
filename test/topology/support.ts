import { readFileSync } from 'node:fs';
import type { TargetConfig } from '../../src/config/types.js';

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

export const FIXTURE_DIR = new URL('./fixtures/', import.meta.url);

/** One line per target, compact enough to list a whole fleet in a test. */
export function row(t: TargetConfig): string {
  const where = t.url ?? `${t.host}:${t.port}`;
  const sni = t.sni !== null && t.sni !== t.host ? `sni=${t.sni}` : '';
  const labels = Object.entries(t.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [t.name, t.group, where, sni, t.address ? `@${t.address}` : '', t.resolve === 'all' ? 'all' : '', t.starttls ? `starttls=${t.starttls}` : '', labels]
    .filter((x) => x !== '')
    .join(' ');
}

/** A minimal topology around some Clusters and Services, in the export's default namespace. */
export function topology(clusters: string, services: string, sites = '<CentralSite SiteId="1"><Name>Dublin</Name></CentralSite>'): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Topology xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008">
  <Sites>${sites}</Sites>
  <Clusters>${clusters}</Clusters>
  <Services>${services}</Services>
</Topology>`;
}

export function cluster(site: string, number: string, fqdn: string, machines: string[] | string): string {
  const body = typeof machines === 'string' ? machines : machines.map((m) => `<Machine Fqdn="${m}"/>`).join('');
  return `<Cluster Fqdn="${fqdn}"><ClusterId SiteId="${site}" Number="${number}"/>${body}</Cluster>`;
}

export function service(id: string, on: string, ports: string[], extra = ''): string {
  const [site, role, instance] = id.split('-');
  const [onSite, onNumber] = on.split(':');
  return `<Service><ServiceId SiteId="${site}" RoleName="${role}" Instance="${instance}"/>${extra}
    <InstalledOn><ClusterId SiteId="${onSite}" Number="${onNumber}"/></InstalledOn>
    <Ports xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.ServiceRoles.2008">${ports.join('')}</Ports></Service>`;
}

export function port(number: number | string, protocol: string, usage = 'SipServer', more = ''): string {
  return `<Port Owner="urn:component:x" Usage="${usage}" InterfaceSide="Primary" InterfaceNumber="1" Port="${number}" Protocol="${protocol}" UrlPath="/" ${more}/>`;
}

/**
 * A large fleet for scale checks: `sites` sites, each with one Front End pool of `perSite` servers
 * (SIP 5061, Focus 444, internal web 443) and a Persistent Chat pool of two that depends on it.
 */
export function largeTopology(sites: number, perSite: number): string {
  const reg = '<RegistrarService IsDirector="false"/>';
  const clusters: string[] = [];
  const services: string[] = [];
  const siteXml: string[] = [];
  for (let s = 1; s <= sites; s++) {
    siteXml.push(`<CentralSite SiteId="${s}"><Name>Site ${s}</Name></CentralSite>`);
    const servers = Array.from({ length: perSite }, (_, i) => `fe${s}-${i}.contoso.local`);
    clusters.push(
      cluster(String(s), '1', `pool${s}.contoso.local`, servers),
      cluster(String(s), '2', `chat${s}.contoso.local`, [`chat${s}-0.contoso.local`, `chat${s}-1.contoso.local`]),
    );
    services.push(
      service(`${s}-Registrar-1`, `${s}:1`, [port(5061, 'Mtls'), port(444, 'Mtls'), port(443, 'Https', 'WebSite')], reg),
      service(
        `${s}-PersistentChatService-1`,
        `${s}:2`,
        [port(5041, 'Mtls')],
        `<DependsOn><Dependency ServiceId="${s}-Registrar-1" Usage="Default"/></DependsOn>`,
      ),
    );
  }
  return topology(clusters.join(''), services.join(''), siteXml.join(''));
}
