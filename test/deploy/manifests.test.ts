// The files an operator copies to run chainwatch (systemd unit, container image, Kubernetes
// manifests, compose) agree with what the product documents and with each other: the CLI and its
// config path, port 9862 with /metrics, /healthz and /readyz, a persistent state directory per
// shard, a non-root user, reload by SIGHUP. The Kubernetes manifests are rendered by the real
// `kubectl kustomize`, the embedded config goes through the real config loader, and the compose
// files through promtool and amtool.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { parseShard } from '../../src/targets/shard.js';
import { DAEMON_NODE_OPTIONS } from '../bench/fleet-run.js';
import { AMTOOL, DEPLOY, deployPath, PROMTOOL, ROOT, readDeploy, runTool, tempDir } from './support.js';

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
    'Type',
    'ExecStart',
    'Environment',
    'ExecReload',
    'Restart',
    'RestartSec',
    'RestartPreventExitStatus',
    'KillSignal',
    'TimeoutStopSec',
    'DynamicUser',
    'User',
    'Group',
    'StateDirectory',
    'StateDirectoryMode',
    'ConfigurationDirectory',
    'ReadOnlyPaths',
    'UMask',
    'LimitNOFILE',
    'NoNewPrivileges',
    'CapabilityBoundingSet',
    'AmbientCapabilities',
    'ProtectSystem',
    'ProtectHome',
    'PrivateTmp',
    'PrivateDevices',
    'ProtectKernelTunables',
    'ProtectKernelModules',
    'ProtectKernelLogs',
    'ProtectControlGroups',
    'ProtectClock',
    'ProtectHostname',
    'ProtectProc',
    'ProcSubset',
    'RestrictAddressFamilies',
    'RestrictNamespaces',
    'RestrictRealtime',
    'RestrictSUIDSGID',
    'LockPersonality',
    'SystemCallArchitectures',
    'SystemCallFilter',
    'SystemCallErrorNumber',
    'Environment',
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

  test('starts Node as the fleet benchmark measured the daemon', () => {
    assert.equal(one('Environment'), `NODE_OPTIONS=${DAEMON_NODE_OPTIONS}`);
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
    assert.ok(
      readOnly.some((p) => configFile.startsWith(`${p}/`)),
      'the config is read-only to the daemon',
    );
    assert.ok(
      readOnly.some((p) => exec[1]!.startsWith(`${p}/`)),
      'the program is read-only to the daemon',
    );
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

interface Containerfile {
  /** ARG defaults declared before the first FROM (usable in FROM lines). */
  globalArgs: Map<string, string>;
  stages: Instruction[][];
}

function parseContainerfile(text: string): Containerfile {
  const joined = text.replace(/\\\n/g, ' ');
  const globalArgs = new Map<string, string>();
  const stages: Instruction[][] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `not an instruction: ${line}`);
    if (m[1] === 'FROM') stages.push([]);
    if (stages.length === 0) {
      assert.equal(m[1], 'ARG', `only ARG may come before FROM: ${line}`);
      const [name, value] = m[2]!.split('=', 2);
      globalArgs.set(name!.trim(), (value ?? '').trim());
      continue;
    }
    stages.at(-1)!.push({ op: m[1]!, args: m[2]!.trim() });
  }
  return { globalArgs, stages };
}

describe('container image', () => {
  const { globalArgs, stages } = parseContainerfile(readDeploy('container/Containerfile'));
  const final = stages.at(-1)!;
  const get = (op: string) => final.filter((i) => i.op === op).map((i) => i.args);
  const expand = (text: string) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => globalArgs.get((a ?? b)!) ?? '');

  test('builds in stages on one pinned minor release of an LTS Node line newer than 20, with npm ci', () => {
    assert.ok(stages.length >= 2, 'multi-stage: the build tools stay out of the final image');
    const bases = new Set(stages.map((s) => expand(s[0]!.args.split(/\s+/)[0]!)));
    assert.equal(bases.size, 1, `one base for all stages: ${[...bases].join(', ')}`);
    const base = [...bases][0]!;
    const m = /(?:^|\/)node:(\d+)\.(\d+)-[a-z]+-slim$/.exec(base);
    assert.ok(m, `${base} is not node:MAJOR.MINOR-<debian>-slim`);
    const major = Number(m[1]);
    // Node 20 reached end of life in April 2026; odd lines are never LTS.
    assert.ok(major >= 22 && major % 2 === 0, `node ${major} is not a supported LTS line`);
    assert.ok(stages.some((s) => s.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))));
  });

  test('Docker and Podman read the same ignore list: .dockerignore and .containerignore at the root', () => {
    const list = readDeploy('container/.containerignore');
    assert.equal(readFileSync(join(ROOT, '.dockerignore'), 'utf8'), list);
    assert.equal(readFileSync(join(ROOT, '.containerignore'), 'utf8'), list);
  });

  test('copies only files that exist and that the ignore file lets through', () => {
    const ignored = readDeploy('container/.containerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
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

  test('carries the OCI labels', () => {
    const labels = get('LABEL').join(' ');
    for (const key of ['title', 'description', 'version', 'licenses', 'base.name']) {
      assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}="[^"]+"`), key);
    }
  });

  test('runs `chainwatch run --config FILE` as a numeric non-root user with state on a volume and port 9862', () => {
    const user = get('USER').at(-1);
    assert.match(user ?? '', /^[1-9]\d*(:\d+)?$/, 'a numeric uid lets Kubernetes check runAsNonRoot');
    assert.deepEqual(get('VOLUME'), ['/var/lib/chainwatch']);
    assert.deepEqual(get('EXPOSE'), [String(PORT)]);
    const entrypoint = JSON.parse(get('ENTRYPOINT')[0]!) as string[];
    const cmd = JSON.parse(get('CMD')[0]!) as string[];
    const workdir = get('WORKDIR').at(-1)!;
    assert.deepEqual(entrypoint, ['node', posix.join(workdir, CLI)]);
    assert.deepEqual(cmd.slice(0, 2), ['run', '--config']);
    assert.match(cmd[2]!, /^\/etc\/chainwatch\/.+\.yaml$/);
    assert.ok(
      final.some((i) => i.op === 'COPY' && i.args.includes('/app/dist')),
      'the final image holds the build',
    );
  });

  test('starts Node as the fleet benchmark measured the daemon', () => {
    assert.ok(get('ENV').includes(`NODE_OPTIONS=${DAEMON_NODE_OPTIONS}`), `ENV lines: ${get('ENV').join('; ')}`);
  });

  test('the health check runs `chainwatch healthcheck` on the config the daemon runs with', () => {
    const hc = get('HEALTHCHECK')[0]!;
    const cmd = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
    const entrypoint = JSON.parse(get('ENTRYPOINT')[0]!) as string[];
    const run = JSON.parse(get('CMD')[0]!) as string[];
    assert.deepEqual(cmd, [...entrypoint, 'healthcheck', '--config', run[2]]);
  });
});

// --- Kubernetes ---------------------------------------------------------------------------

type Doc = Record<string, any>;
const K8S = deployPath('kubernetes');
const KUBECTL = '/usr/bin/kubectl';

/** `kubectl kustomize DIR`, as an operator would render it, split into documents. */
function kustomize(dir: string): Doc[] {
  const r = runTool(KUBECTL, ['kustomize', join(K8S, dir)], ROOT);
  assert.equal(r.status, 0, r.output);
  return parseAllDocuments(r.output.replace(/^# Warning:.*\n/gm, '')).map((d) => {
    assert.deepEqual(d.errors, [], d.errors.join('; '));
    return d.toJS() as Doc;
  });
}

const one = (docs: Doc[], kind: string): Doc => {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}: ${docs.map((d) => d.kind).join(', ')}`);
  return found[0]!;
};

const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The checks every rendering must pass, whatever the shard count. */
function checkStatefulSet(docs: Doc[]): { sts: Doc; shards: number } {
  const sts = one(docs, 'StatefulSet');
  const pod = sts.spec.template.spec;
  const podLabels = sts.spec.template.metadata.labels;
  assert.deepEqual(sts.spec.selector.matchLabels, podLabels);
  const c = pod.containers[0];

  // Headless governing Service selecting these pods.
  const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === sts.spec.serviceName);
  assert.ok(svc, `the serviceName ${sts.spec.serviceName} is rendered`);
  assert.equal(svc.spec.clusterIP, 'None', 'headless');
  assert.ok(selects(svc.spec.selector, podLabels));
  assert.ok([PORT, 'http'].includes(svc.spec.ports[0].targetPort));

  // One claim per pod, mounted where the config keeps its state.
  const claim = sts.spec.volumeClaimTemplates[0];
  const mounts = new Map<string, { mountPath: string; readOnly?: boolean }>(c.volumeMounts.map((m: { name: string }) => [m.name, m]));
  assert.equal(mounts.get(claim.metadata.name)?.mountPath, '/var/lib/chainwatch');
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
  assert.ok(!pod.volumes.some((v: { name: string }) => v.name === claim.metadata.name), 'state comes from the claim template, not a shared volume');

  // The shard: auto/N from the pod ordinal, N = replicas, and HOSTNAME left to Kubernetes.
  const env = new Map<string, string>((c.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));
  const spec = env.get('CHAINWATCH_SHARD');
  assert.ok(spec, 'CHAINWATCH_SHARD is set');
  assert.ok(!env.has('HOSTNAME'), 'HOSTNAME must stay the pod name');
  assert.ok(!c.args.includes('--shard'), 'the shard comes from the environment only');
  const replicas = sts.spec.replicas as number;
  for (let ordinal = 0; ordinal < replicas; ordinal++) {
    assert.deepEqual(parseShard(spec, `${sts.metadata.name}-${ordinal}`), { index: ordinal, count: replicas }, `pod ${ordinal}`);
  }
  assert.equal(sts.spec.podManagementPolicy, 'Parallel');

  // The CLI with the ConfigMap's config.
  assert.deepEqual(c.args.slice(0, 2), ['run', '--config']);
  const configVolume = pod.volumes.find((v: { configMap?: unknown }) => v.configMap);
  assert.equal(mounts.get(configVolume.name)?.mountPath, dirname(c.args[2]));
  assert.equal(mounts.get(configVolume.name)?.readOnly, true);

  // Probes and port.
  assert.equal(c.ports.find((p: { name: string }) => p.name === 'http').containerPort, PORT);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  for (const probe of [c.readinessProbe, c.livenessProbe]) assert.ok([PORT, 'http'].includes(probe.httpGet.port));

  // Sized for ~150 MB at 10,000 endpoints per shard.
  const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
  assert.ok(mib(c.resources.requests.memory) >= 150, `memory request ${c.resources.requests.memory}`);
  assert.ok(mib(c.resources.limits.memory) > mib(c.resources.requests.memory));
  assert.ok(c.resources.requests.cpu);

  // Non-root, read-only root filesystem, no capabilities.
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);

  // Drains take one shard at a time.
  const pdb = one(docs, 'PodDisruptionBudget');
  assert.equal(pdb.apiVersion, 'policy/v1');
  assert.ok(selects(pdb.spec.selector.matchLabels, podLabels));
  assert.equal(pdb.spec.maxUnavailable, 1);
  return { sts, shards: replicas };
}

describe('Kubernetes manifests (rendered by kubectl kustomize)', () => {
  test('the base renders core kinds only, one shard, and passes the structural checks', () => {
    const docs = kustomize('base');
    assert.deepEqual(docs.map((d) => d.kind).sort(), ['ConfigMap', 'PodDisruptionBudget', 'Service', 'StatefulSet']);
    assert.equal(checkStatefulSet(docs).shards, 1);
  });

  test('the example overlay: three shards with matching replicas, namespace, monitors, rules and dashboard', () => {
    const docs = kustomize('overlays/example');
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      'ConfigMap',
      'ConfigMap',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Service',
      'ServiceMonitor',
      'StatefulSet',
    ]);
    for (const d of docs) assert.equal(d.metadata.namespace, 'chainwatch', `${d.kind} ${d.metadata.name}`);
    const { sts, shards } = checkStatefulSet(docs);
    assert.equal(shards, 3);
    assert.match(sts.spec.template.spec.containers[0].image, /^registry\.contoso\.local\/chainwatch:0\.1\.0$/);

    const podLabels = sts.spec.template.metadata.labels;
    const svc = one(docs, 'Service');
    const sm = one(docs, 'ServiceMonitor');
    assert.ok(selects(sm.spec.selector.matchLabels, svc.metadata.labels));
    assert.deepEqual(
      sm.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path]),
      [[svc.spec.ports[0].name, '/metrics']],
    );
    // The rules select job="chainwatch": the job label comes from this pod/service label.
    assert.equal(svc.metadata.labels[sm.spec.jobLabel], 'chainwatch');
    assert.equal(podLabels[sm.spec.jobLabel], 'chainwatch');

    const pr = one(docs, 'PrometheusRule');
    assert.deepEqual(pr.spec, parse(readDeploy('prometheus/chainwatch.rules.yml')));

    const dashboard = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.labels?.grafana_dashboard === '1');
    assert.ok(dashboard, 'a ConfigMap labelled grafana_dashboard: "1" for the Grafana sidecar');
    assert.deepEqual(Object.keys(dashboard.data), ['chainwatch-dashboard.json']);
    assert.equal(dashboard.data['chainwatch-dashboard.json'], readDeploy('grafana/chainwatch-dashboard.json'));
  });

  test('the PodMonitor alternative scrapes the same pods and port with the same job label', () => {
    const pm = parse(readFileSync(join(K8S, 'prometheus-operator/podmonitor.yaml'), 'utf8')) as Doc;
    const { sts } = checkStatefulSet(kustomize('base'));
    const podLabels = sts.spec.template.metadata.labels;
    assert.equal(pm.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(pm.kind, 'PodMonitor');
    assert.ok(selects(pm.spec.selector.matchLabels, podLabels));
    assert.deepEqual(
      pm.spec.podMetricsEndpoints.map((e: { port: string; path: string }) => [e.port, e.path]),
      [['http', '/metrics']],
    );
    assert.equal(podLabels[pm.spec.jobLabel], 'chainwatch');
  });

  test('the ConfigMap holds a config the real loader accepts, with state on the claim and port 9862', async () => {
    const docs = kustomize('base');
    const sts = one(docs, 'StatefulSet');
    const configFile: string = sts.spec.template.spec.containers[0].args[2];
    const cm = one(docs, 'ConfigMap');
    assert.equal(sts.spec.template.spec.volumes.find((v: { configMap?: { name: string } }) => v.configMap).configMap.name, cm.metadata.name);
    const config = await parseConfig(cm.data[basename(configFile)], configFile);
    assert.equal(config.state.path, '/var/lib/chainwatch');
    assert.equal(config.server.listen.port, PORT);
    assert.ok(config.targets.length > 0);
    assert.deepEqual(
      config.policies.map((p) => p.name),
      ['pchat-web-same-ca'],
    );
  });

  test('every manifest file is used by a kustomization (the PodMonitor is the documented alternative)', () => {
    const listed = new Set<string>();
    for (const dir of ['base', 'prometheus-operator', 'overlays/example']) {
      const k = parse(readFileSync(join(K8S, dir, 'kustomization.yaml'), 'utf8')) as {
        resources?: string[];
        patchesStrategicMerge?: string[];
        configMapGenerator?: { files: string[] }[];
      };
      for (const f of [...(k.resources ?? []), ...(k.patchesStrategicMerge ?? []), ...(k.configMapGenerator ?? []).flatMap((g) => g.files)]) {
        listed.add(posix.join(dir, f));
      }
    }
    const walk = (dir: string): string[] =>
      readdirSync(join(K8S, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(posix.join(dir, e.name)) : [posix.join(dir, e.name)]));
    const unused = walk('.')
      .map((f) => posix.normalize(f))
      .filter((f) => !f.endsWith('kustomization.yaml') && !listed.has(f));
    assert.deepEqual(unused, ['prometheus-operator/podmonitor.yaml']);
  });
});

// --- Compose ------------------------------------------------------------------------------

const COMPOSE = deployPath('compose');

describe('compose: chainwatch demo, Prometheus, Alertmanager, Grafana', () => {
  const compose = parse(readFileSync(join(COMPOSE, 'compose.yaml'), 'utf8')) as Doc;
  const services = compose.services as Record<string, Doc>;
  /** host path of a bind mount, resolved against the compose folder. */
  const mounts = (svc: Doc) =>
    (svc.volumes as string[])
      .map((v) => v.split(':'))
      .filter(([src]) => src!.startsWith('.'))
      .map(([src, dst]) => ({ src: join(COMPOSE, src!), dst: dst! }));

  test('has the four services, every bind mount exists, every image is pinned', () => {
    assert.deepEqual(Object.keys(services).sort(), ['alertmanager', 'chainwatch', 'grafana', 'prometheus']);
    for (const [name, svc] of Object.entries(services)) {
      for (const m of mounts(svc)) assert.ok(existsSync(m.src), `${name}: ${m.src} does not exist`);
      if (name !== 'chainwatch') assert.match(svc.image, /:v?\d+\.\d+\.\d+$/, `${name} image ${svc.image} pinned to a release`);
    }
  });

  test('chainwatch is built from the Containerfile and runs the demo where Prometheus can scrape it', () => {
    const cw = services.chainwatch!;
    assert.equal(join(COMPOSE, cw.build.context), ROOT.replace(/\/$/, ''));
    assert.ok(existsSync(join(ROOT, cw.build.dockerfile)));
    assert.equal(cw.command[0], 'demo');
    assert.equal(cw.command[cw.command.indexOf('--listen') + 1], `0.0.0.0:${PORT}`);
    const dir = cw.command[cw.command.indexOf('--dir') + 1] as string;
    assert.deepEqual(cw.healthcheck.test.slice(-3), ['healthcheck', '--config', `${dir}/chainwatch.yaml`]);
  });

  test('Prometheus: promtool accepts the config and the rules it loads, and it scrapes chainwatch and alerts Alertmanager', () => {
    const prom = services.prometheus!;
    const configMount = mounts(prom).find((m) => m.dst === '/etc/prometheus/prometheus.yml')!;
    const config = parse(readFileSync(configMount.src, 'utf8')) as Doc;
    const dir = tempDir('chainwatch-compose-prom-');
    try {
      // Lay the files out as the container sees them, then check them with the real promtool.
      for (const m of mounts(prom)) writeFileSync(join(dir.path, basename(m.dst)), readFileSync(m.src));
      for (const rule of config.rule_files as string[]) assert.ok(existsSync(join(dir.path, rule)), `rule file ${rule} is mounted`);
      const r = runTool(PROMTOOL, ['check', 'config', 'prometheus.yml'], dir.path);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /SUCCESS: \d+ rules found/);
    } finally {
      dir.remove();
    }
    assert.deepEqual(config.scrape_configs[0].static_configs[0].targets, [`chainwatch:${PORT}`]);
    assert.equal(config.scrape_configs[0].job_name, 'chainwatch');
    assert.deepEqual(config.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
  });

  test('Alertmanager: amtool accepts its config', () => {
    const am = services.alertmanager!;
    const configMount = mounts(am).find((m) => m.dst === '/etc/alertmanager/alertmanager.yml')!;
    const r = runTool(AMTOOL, ['check-config', configMount.src], COMPOSE);
    assert.equal(r.status, 0, r.output);
  });

  test('Grafana: the provisioned data source is the compose Prometheus, and the dashboard provider points at the mounted dashboard', () => {
    const g = services.grafana!;
    const prov = mounts(g).find((m) => m.dst === '/etc/grafana/provisioning')!;
    const ds = parse(readFileSync(join(prov.src, 'datasources/prometheus.yml'), 'utf8')) as Doc;
    assert.equal(ds.apiVersion, 1);
    assert.equal(ds.datasources.length, 1);
    assert.deepEqual([ds.datasources[0].type, ds.datasources[0].url, ds.datasources[0].isDefault], ['prometheus', 'http://prometheus:9090', true]);
    const dash = parse(readFileSync(join(prov.src, 'dashboards/chainwatch.yml'), 'utf8')) as Doc;
    assert.equal(dash.apiVersion, 1);
    const provider = dash.providers[0];
    assert.equal(provider.type, 'file');
    const dashboardMount = mounts(g).find((m) => m.dst.startsWith(`${provider.options.path}/`));
    assert.ok(dashboardMount, `a dashboard file is mounted under ${provider.options.path}`);
    assert.equal(readFileSync(dashboardMount.src, 'utf8'), readDeploy('grafana/chainwatch-dashboard.json'));
    const json = JSON.parse(readFileSync(dashboardMount.src, 'utf8')) as { templating: { list: { name: string; type: string; query: string }[] } };
    assert.ok(
      json.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'),
      'the dashboard picks the provisioned Prometheus by type',
    );
    assert.equal(g.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, dashboardMount.dst);
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
