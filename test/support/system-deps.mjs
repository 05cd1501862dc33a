// Installs the Debian packages the tests drive for real (openssl, Prometheus, Alertmanager,
// dig, Chromium for the status page; never a browser build of its own; kubectl for `kubectl
// kustomize`) when they are missing, so `npm ci && npm test` passes on a fresh Debian machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED = [
  { bin: '/usr/bin/openssl', pkg: 'openssl' },
  { bin: '/usr/bin/prometheus', pkg: 'prometheus' },
  { bin: '/usr/bin/promtool', pkg: 'prometheus' },
  { bin: '/usr/bin/prometheus-alertmanager', pkg: 'prometheus-alertmanager' },
  { bin: '/usr/bin/amtool', pkg: 'prometheus-alertmanager' },
  { bin: '/usr/bin/dig', pkg: 'bind9-dnsutils' },
  { bin: '/usr/bin/chromium', pkg: 'chromium' },
  // The fleet smoke test serves its loopback fleet with nginx.
  { bin: '/usr/sbin/nginx', pkg: 'nginx' },
  // Debian 12's kubectl is 1.20 (kustomize 2.0): the manifests stay within what it renders.
  { bin: '/usr/bin/kubectl', pkg: 'kubernetes-client' },
  // The web config tests speak to the daemon with a client that is not Node's.
  { bin: '/usr/bin/curl', pkg: 'curl' },
];

export function ensureSystemDeps() {
  ensurePackages(NEEDED);
}

/** Installs the packages of `needed` ({ bin, pkg }) whose binary is missing (benchmarks add theirs). */
export function ensurePackages(needed) {
  const missing = [...new Set(needed.filter((n) => !existsSync(n.bin)).map((n) => n.pkg))];
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    console.error(`test set-up: missing Debian packages: ${missing.join(' ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`test set-up: installing Debian packages ${missing.join(' ')} (one time, about a minute)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}
