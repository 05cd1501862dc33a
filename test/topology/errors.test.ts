import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importTopology, importTopologyFile, MAX_TOPOLOGY_CHARS, TopologyError } from '../../src/topology/index.js';
import { cluster, fixture, service, topology } from './support.js';

function rejects(xml: string, pattern: RegExp): void {
  assert.throws(
    () => importTopology(xml, { sourceName: 'topology.xml' }),
    (err: unknown) => {
      assert.ok(err instanceof TopologyError, `expected a TopologyError, got ${String(err)}`);
      assert.match(err.message, /^topology\.xml[:]/, 'the message names the input first');
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('an empty or blank input says so and how to export a topology', () => {
  for (const text of ['', '   \n\t\n', '\uFEFF', '\uFEFF\n']) {
    rejects(text, /^topology\.xml: is empty; export it on a Lync server with: \(Get-CsTopology -AsXml\)\.ToString\(\)/);
  }
});

test('malformed XML is reported with the line and column the parser stopped at', () => {
  rejects(
    '<Topology>\n  <Clusters>\n  </Sites>\n</Topology>',
    /^topology\.xml:3:3: not well-formed XML: Expected closing tag 'Clusters' \(opened in line 2, col 3\) instead of closing tag 'Sites'\. If the file was cut short or edited, export it/,
  );
  rejects('<Topology><Cluster Fqdn="a" Fqdn="b"/></Topology>', /^topology\.xml:1:\d+: not well-formed XML: Attribute 'Fqdn' is repeated/);
  rejects('hello, this is not XML', /^topology\.xml:1:1: not well-formed XML/);
  rejects('{"Topology": {}}', /^topology\.xml:1:1: not well-formed XML/);
  // A truncated copy (the clipboard cut it off) is the most common broken export.
  const full = fixture('enterprise.xml');
  rejects(full.slice(0, Math.floor(full.length / 2)), /^topology\.xml:\d+(:\d+)?: not well-formed XML/);
});

test('XML that is not a topology export names the root element it found', () => {
  rejects(
    '<?xml version="1.0"?><configuration><appSettings/></configuration>',
    /is XML but not a Lync topology export: the root element is <configuration>, expected <Topology>/,
  );
  rejects('<Topology/><Topology/>', /has several <Topology> root elements/);
  rejects(
    '<Topology xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008"><Sites/></Topology>',
    /has neither <Clusters> nor <Services>; this is not a complete export/,
  );
});

test('a topology without any TLS port is refused: the config would watch nothing', () => {
  const xml = topology(
    cluster('1', '1', 'sql01.contoso.local', ['sql01.contoso.local']),
    service('1-UserStore-1', '1:1', ['<Port Port="1433" Protocol="Tcp"/>']),
  );
  rejects(xml, /^topology\.xml: the topology lists no TLS port \(Protocol Tls, Mtls or Https\) on any defined pool \(1 pool, 1 service\): nothing to watch/);
});

test('DTDs are refused outright: no external entities, no entity expansion', () => {
  rejects(
    '<?xml version="1.0"?><!DOCTYPE Topology [<!ENTITY x SYSTEM "file:///etc/passwd">]><Topology><Clusters/>&x;</Topology>',
    /has a <!DOCTYPE> declaration, which a Lync topology export never has; chainwatch does not process DTDs or entities/,
  );
  const lol = `<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&${i === 0 ? 'a' : `l${i}`};`.repeat(10)}">`).join('')}]><Topology>&l9;</Topology>`;
  rejects(lol, /<!DOCTYPE>/);
});

test('hostile shapes end in a TopologyError, not a crash: deep nesting, NUL bytes, oversize input', () => {
  rejects(`<Topology>${'<x>'.repeat(5000)}${'</x>'.repeat(5000)}</Topology>`, /cannot be parsed as XML: .*nested/i);
  rejects('<Topology>\u0000</Topology>', /contains NUL bytes/);
  const huge = `<Topology><Clusters>${' '.repeat(MAX_TOPOLOGY_CHARS)}</Clusters></Topology>`;
  const started = process.hrtime.bigint();
  rejects(huge, /is \d+ characters; a Lync topology export is a few megabytes at most/);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 1000, `oversize input must be refused before parsing (took ${ms} ms)`);
});

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-topology-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('files saved by Windows PowerShell (UTF-16 with a byte order mark) import like UTF-8 ones', async () => {
  const xml = fixture('standard-edition.xml');
  const utf16le = join(dir, 'le.xml');
  const utf16be = join(dir, 'be.xml');
  const utf8bom = join(dir, 'bom.xml');
  await writeFile(utf16le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]));
  await writeFile(utf16be, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(xml, 'utf16le').swap16()]));
  await writeFile(utf8bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')]));
  for (const file of [utf16le, utf16be, utf8bom]) {
    assert.equal(await importTopologyFile(file), importTopology(xml, { sourceName: file }), file);
  }
  // Without the BOM, UTF-16 read as UTF-8 is full of NULs: say what it probably is.
  const noBom = join(dir, 'nobom.xml');
  await writeFile(noBom, Buffer.from(xml, 'utf16le'));
  await assert.rejects(
    importTopologyFile(noBom),
    (err: unknown) => err instanceof TopologyError && err.message.startsWith(`${noBom}: contains NUL bytes (binary or UTF-16 text read as UTF-8?)`),
  );
});

test('unreadable files are TopologyErrors naming the file', async () => {
  const missing = join(dir, 'missing.xml');
  await assert.rejects(
    importTopologyFile(missing),
    (err: unknown) => err instanceof TopologyError && err.message === `${missing}: cannot read the topology file: no such file`,
  );
  await assert.rejects(
    importTopologyFile(dir),
    (err: unknown) => err instanceof TopologyError && err.message === `${dir}: is a directory; give the path of the topology XML file`,
  );
  // A sparse 200 MB file: refused from its size, without reading it.
  const big = join(dir, 'big.xml');
  await writeFile(big, '<Topology>');
  await truncate(big, 200 * 1024 * 1024);
  await assert.rejects(
    importTopologyFile(big),
    (err: unknown) => err instanceof TopologyError && /^.*big\.xml: is 209715200 bytes; a Lync topology export is a few megabytes at most/.test(err.message),
  );
  const broken = join(dir, 'broken.xml');
  await writeFile(broken, '<Topology>\n<Clusters>\n</Topology>\n');
  await assert.rejects(importTopologyFile(broken), (err: unknown) => err instanceof TopologyError && err.message.startsWith(`${broken}:3:`));
});
