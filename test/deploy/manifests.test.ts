// The files an operator copies to run chainwatch (systemd unit, container image, Kubernetes
// manifests) agree with what the product documents and with each other: the CLI and its config
// path, port 9862 with /metrics, /healthz and /readyz, a persistent state directory, a non-root
// user, reload by SIGHUP. The embedded Kubernetes config goes through the real config loader,
// and the image's health check command is run against a loopback server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join, posix } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { DEPLOY, ROOT, deployPath, readDeploy } from './support.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const CLI = pkg.bin.chainwatch!; // dist/src/cli/main.js
const PORT = 9862;

// --- systemd ------------------------------------------------------------------------------

function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      return;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && current, `unit line ${i + 1} is not Key=value inside a section: ${raw}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  });
  return sections;
}

/** The directives this unit may use, by section; a misspelt one would be ignored by systemd. */
const UNIT_DIRECTIVES: Record<string, string[]> = {
  Unit: ['Description', 'Documentation', 'After', 'Wants', 'Requires'],
  Service: [
    'Type', 'ExecStart', 'ExecReload', 'Restart', 'RestartSec', 'RestartPreventExitStatus', 'KillSignal', 'TimeoutStopSec',
    'DynamicUser', 'User', 'Group', 'StateDirectory', 'StateDirectoryMode', 'ConfigurationDirectory', 'ReadOnlyPaths', 'UMask',
    'NoNewPrivileges', 'CapabilityBoundingSet', 'AmbientCapabilities', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices',
    'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'ProtectClock', 'ProtectHostname',
    'ProtectProc', 'ProcSubset', 'RestrictAddressFamilies', 'RestrictNamespaces', 'RestrictRealtime', 'RestrictSUIDSGID',
    'LockPersonality', 'SystemCallArchitectures', 'SystemCallFilter', 'SystemCallErrorNumber', 'Environment',
  ],
  Install: ['WantedBy'],
};

describe('systemd unit', () => {
  const unit = parseUnit(readDeploy('systemd/chainwatch.service'));
  const service = unit.get('Service')!;
  const one = (key: string) => {
    const v = service.get(key);
    assert.ok(v, `[Service] ${key} missing`);
    return v.at(-1)!;
  };

  test('uses only known directives in the right sections', () => {
    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    for (const [section, keys] of unit) {
      for (const key of keys.keys()) assert.ok(UNIT_DIRECTIVES[section]!.includes(key), `[${section}] ${key} is not a directive this unit expects`);
    }
  });

  test('runs `chainwatch run --config FILE` from the built package, reloads with SIGHUP, restarts on failure', () => {
    const exec = one('ExecStart').split(/\s+/);
    assert.equal(exec[0], '/usr/bin/node');
    assert.ok(exec[1]!.endsWith(`/${CLI}`), `${exec[1]} is not the package's bin ${CLI}`);
    assert.deepEqual(exec.slice(2, 4), ['run', '--config']);
    const configFile = exec[4]!;
    assert.ok(configFile.startsWith('/etc/chainwatch/'));
    assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('RestartPreventExitStatus'), '2', 'exit 2 is a bad config: restarting cannot help');
    const readOnly = one('ReadOnlyPaths').split(/\s+/);
    assert.ok(readOnly.some((p) => configFile.startsWith(`${p}/`)), 'the config is read-only to the daemon');
    assert.ok(readOnly.some((p) => exec[1]!.startsWith(`${p}/`)), 'the program is read-only to the daemon');
  });

  test('is hardened: own unprivileged user, state directory, no new privileges, no capabilities', () => {
    assert.ok(one('DynamicUser') === 'yes' || service.has('User'));
    assert.equal(one('StateDirectory'), 'chainwatch', 'state lives in /var/lib/chainwatch');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.notEqual(service.get('MemoryDenyWriteExecute')?.at(-1), 'yes', "Node's JIT needs W+X memory");
    for (const family of ['AF_INET', 'AF_INET6']) assert.ok(one('RestrictAddressFamilies').split(' ').includes(family));
    assert.deepEqual(unit.get('Install')?.get('WantedBy'), ['multi-user.target']);
  });
});

// --- container ----------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

function parseContainerfile(text: string): Instruction[][] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `not an instruction: ${line}`);
    if (m[1] === 'FROM') stages.push([]);
    assert.ok(stages.length > 0, 'instructions before FROM');
    stages.at(-1)!.push({ op: m[1]!, args: m[2]!.trim() });
  }
  return stages;
}

describe('container image', () => {
  const stages = parseContainerfile(readDeploy('container/Containerfile'));
  const final = stages.at(-1)!;
  const get = (op: string) => final.filter((i) => i.op === op).map((i) => i.args);

  test('builds on node:20-slim with npm ci', () => {
    for (const s of stages) assert.match(s[0]!.args, /^node:20-slim\b/);
    assert.ok(stages.some((s) => s.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))));
  });

  test('copies only files that exist and that the ignore file lets through', () => {
    const ignored = readDeploy('container/.containerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const s of stages) {
      for (const i of s.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
        const sources = i.args.split(/\s+/).slice(0, -1);
        for (const src of sources) {
          assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} does not exist in the repository`);
          assert.ok(!ignored.some((g) => src === g || src.startsWith(`${g}/`)), `COPY source ${src} is excluded by .containerignore`);
        }
      }
    }
  });

  test('runs `chainwatch run --config FILE` as a non-root user with state on a volume and port 9862', () => {
    const user = get('USER').at(-1);
    assert.ok(user && user !== 'root' && user !== '0', `runs as ${user}`);
    assert.deepEqual(get('VOLUME'), ['/var/lib/chainwatch']);
    assert.deepEqual(get('EXPOSE'), [String(PORT)]);
    const entrypoint = JSON.parse(get('ENTRYPOINT')[0]!) as string[];
    const cmd = JSON.parse(get('CMD')[0]!) as string[];
    const workdir = get('WORKDIR').at(-1)!;
    assert.deepEqual(entrypoint, ['node', posix.join(workdir, CLI)]);
    assert.deepEqual(cmd.slice(0, 2), ['run', '--config']);
    assert.match(cmd[2]!, /^\/etc\/chainwatch\/.+\.yaml$/);
    assert.ok(final.some((i) => i.op === 'COPY' && i.args.includes('/app/dist')), 'the final image holds the build');
  });

  test('the health check command probes /healthz and reports the answer', async () => {
    const hc = get('HEALTHCHECK')[0]!;
    const cmd = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
    assert.equal(cmd[0], 'node');
    const script = cmd.slice(1);
    assert.match(script.join(' '), new RegExp(`127\\.0\\.0\\.1:${PORT}/healthz`));
    let status = 200;
    const paths: string[] = [];
    const srv = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    // The same command, aimed at a loopback stand-in instead of the daemon's port.
    // Spawned asynchronously: this process serves the stand-in while the command runs.
    const run = () =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, script.map((a) => a.replace(`:${PORT}/`, `:${port}/`)), { stdio: 'ignore', timeout: 20_000 });
        child.once('error', reject);
        child.once('exit', (code) => resolve(code));
      });
    try {
      assert.equal(await run(), 0, 'healthy daemon');
      status = 503;
      assert.equal(await run(), 1, 'unhealthy daemon');
      assert.deepEqual(paths, ['/healthz', '/healthz']);
    } finally {
      await new Promise((r) => srv.close(r));
    }
    assert.equal(await run(), 1, 'nothing listening');
  });
});

// --- Kubernetes ---------------------------------------------------------------------------

const K8S = deployPath('kubernetes');
type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, [], `${f}: ${d.errors.join('; ')}`);
      return { ...(d.toJS() as Doc), __file: f };
    }),
  );
const ofKind = (kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!;
};

describe('Kubernetes manifests', () => {
  test('every document has apiVersion, kind and a name', () => {
    assert.ok(docs.length >= 4);
    for (const d of docs) {
      assert.ok(d.apiVersion && d.kind && d.metadata?.name, `${d.__file}: ${JSON.stringify(d).slice(0, 80)}`);
    }
  });

  test('the StatefulSet runs the CLI with the ConfigMap config and keeps state on a claim', () => {
    const sts = ofKind('StatefulSet');
    const pod = sts.spec.template.spec;
    assert.deepEqual(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels);
    const c = pod.containers[0];
    assert.deepEqual(c.args.slice(0, 2), ['run', '--config']);
    const configFile: string = c.args[2];
    const mounts = new Map<string, { mountPath: string; readOnly?: boolean }>(c.volumeMounts.map((m: { name: string }) => [m.name, m]));
    const configVolume = pod.volumes.find((v: { configMap?: unknown }) => v.configMap);
    assert.equal(mounts.get(configVolume.name)?.mountPath, dirname(configFile));
    assert.equal(mounts.get(configVolume.name)?.readOnly, true);
    const cm = ofKind('ConfigMap');
    assert.equal(configVolume.configMap.name, cm.metadata.name);
    assert.ok(basename(configFile) in cm.data, `ConfigMap has no key ${basename(configFile)}`);
    const claim = sts.spec.volumeClaimTemplates[0];
    assert.equal(mounts.get(claim.metadata.name)?.mountPath, '/var/lib/chainwatch');
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    assert.equal(sts.spec.replicas, 1, 'one writer per baseline');
  });

  test('ports, probes and scrape annotations match the daemon: 9862, /metrics, /healthz, /readyz', () => {
    const sts = ofKind('StatefulSet');
    const c = sts.spec.template.spec.containers[0];
    const http = c.ports.find((p: { name: string }) => p.name === 'http');
    assert.equal(http.containerPort, PORT);
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    for (const probe of [c.readinessProbe, c.livenessProbe]) assert.ok([PORT, 'http'].includes(probe.httpGet.port));
    const ann = sts.spec.template.metadata.annotations;
    assert.equal(ann['prometheus.io/scrape'], 'true');
    assert.equal(ann['prometheus.io/port'], String(PORT));
    assert.equal(ann['prometheus.io/path'], '/metrics');
    const svc = ofKind('Service');
    assert.deepEqual(svc.spec.selector, sts.spec.template.metadata.labels);
    assert.equal(svc.spec.ports[0].port, PORT);
    assert.ok([PORT, 'http'].includes(svc.spec.ports[0].targetPort));
  });

  test('runs as non-root with a read-only root filesystem and no capabilities', () => {
    const pod = ofKind('StatefulSet').spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const sc = pod.containers[0].securityContext;
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities.drop, ['ALL']);
  });

  test('the ConfigMap holds a config the real loader accepts, with state on the claim and port 9862', async () => {
    const sts = ofKind('StatefulSet');
    const configFile: string = sts.spec.template.spec.containers[0].args[2];
    const cm = ofKind('ConfigMap');
    const config = await parseConfig(cm.data[basename(configFile)], configFile);
    assert.equal(config.state.path, '/var/lib/chainwatch');
    assert.equal(config.server.listen.port, PORT);
    assert.ok(config.targets.length > 0);
    assert.deepEqual(config.policies.map((p) => p.name), ['pchat-web-same-ca']);
  });

  test('the kustomization lists every manifest but the optional PrometheusRule', () => {
    const k = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const files = [...new Set(docs.filter((d) => d.kind !== 'PrometheusRule').map((d) => d.__file as string))].sort();
    assert.deepEqual([...k.resources].sort(), files);
  });

  test('the PrometheusRule carries exactly the rules of deploy/prometheus', () => {
    const pr = ofKind('PrometheusRule');
    assert.equal(pr.apiVersion, 'monitoring.coreos.com/v1');
    assert.deepEqual(pr.spec, parse(readDeploy('prometheus/chainwatch.rules.yml')));
  });
});

// --- README -------------------------------------------------------------------------------

test('deploy/README.md mentions every file it ships', () => {
  const readme = readDeploy('README.md');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const missing = walk(DEPLOY)
    .map((f) => f.slice(DEPLOY.length + 1))
    .filter((f) => f !== 'README.md' && !readme.includes(f));
  assert.deepEqual(missing, []);
});
