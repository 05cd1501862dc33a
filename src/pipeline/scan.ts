import type { ChainAnalyzer } from '../chain/analyzer.js';
import { isUnreadable } from '../chain/types.js';
import type { Config } from '../config/types.js';
import type { BaselineStore } from '../fleet/baseline-store.js';
import { judgePolicies } from '../fleet/policy.js';
import { defaultProbeProcesses, probeAllIsolated, probeProcessCount } from '../probe/isolated.js';
import { probeAll } from '../probe/probe.js';
import type { ProbeResult } from '../probe/types.js';
import type { RevocationChecker, ScanPass } from '../revocation/checker.js';
import { expandTargets } from '../targets/expand.js';
import { createResolver, type Resolver } from '../targets/resolver.js';
import type { Endpoint } from '../targets/types.js';
import { SlowEndpoints } from './slow-first.js';
import type { EndpointResult, ScanResult } from './types.js';

export interface ScanOptions {
  signal?: AbortSignal;
  /** When given, changes are computed against it and folded into it (in memory; saving is the caller's). */
  baseline?: BaselineStore;
  /** Scan only these targets (all when absent or empty). */
  targetNames?: string[];
  onProgress?: (done: number, total: number) => void;
  /** Told about a bug of ours (that endpoint's error says `internal`): log it with `err.stack`. */
  onInternalError?: (endpoint: Endpoint, err: unknown) => void;
  now?: () => Date;
  /**
   * Where the connections are made: 'processes', in child processes started for this scan (see
   * probeAllIsolated); 'here', in this process (the default); 'auto', here when one probe
   * process would do and in child processes when several would share the work. 'auto' suits a
   * command that exits after one scan: the native capture's small leak ends with it, and starting
   * a child process (about 0.1 s) is a large share of a small fleet's scan.
   */
  probesIn?: 'here' | 'processes' | 'auto';
}

/** The stages after probing that keep state from scan to scan. */
interface Analysis {
  analyzer: ChainAnalyzer;
  revocation: RevocationChecker | null;
}

/**
 * One pass of the pipeline: targets → probe → chain analysis → revocation → fleet judgement. The
 * same code serves `chainwatch scan` and every tick of the daemon. The analyzer (parse cache,
 * trust store, path results) and the revocation checker (CRLs and OCSP answers, on their own
 * clock) live as long as the config object they were built for.
 *
 * Their modules (the X.509 and ASN.1 libraries: about a tenth of a second) are loaded by the
 * first scan once its probes are on their way, so that the probe processes start meanwhile.
 */
export class Scanner {
  private readonly resolver: Resolver;
  private readonly slow: SlowEndpoints;
  private analysis: Promise<Analysis> | null = null;

  constructor(readonly config: Config) {
    this.resolver = createResolver(config.dns, config.scan.timeoutMs);
    this.slow = new SlowEndpoints(config.scan.timeoutMs);
  }

  async scan(opts: ScanOptions = {}): Promise<ScanResult> {
    const now = opts.now ?? (() => new Date());
    const startedAt = now();
    const wanted = new Set(opts.targetNames ?? []);
    const targets = this.config.targets.filter((t) => wanted.size === 0 || wanted.has(t.name));
    const endpoints = await expandTargets(targets, this.resolver);
    // Analysis and the revocation checks start as each probe ends, so parsing and fetching CRLs
    // and OCSP answers overlap the network wait of the others.
    const pass = this.revocationPass(opts.signal);
    const examine = (p: ProbeResult): Promise<EndpointResult> => this.examine(p, startedAt, pass, opts.onInternalError);
    const analyses = new Map<ProbeResult, Promise<EndpointResult>>();
    const { concurrency } = this.config.scan;
    const processes = this.config.scan.probeProcesses ?? defaultProbeProcesses();
    const isolated = opts.probesIn === 'processes' || (opts.probesIn === 'auto' && probeProcessCount(endpoints.length, concurrency, processes) > 1);
    const probing = (isolated ? probeAllIsolated : probeAll)(endpoints, {
      timeoutMs: this.config.scan.timeoutMs,
      concurrency,
      processes,
      first: this.slow.first(endpoints, concurrency),
      signal: opts.signal,
      onInternalError: opts.onInternalError,
      onResult: (r, done, total) => {
        analyses.set(r, examine(r));
        opts.onProgress?.(done, total);
      },
    });
    // The analysis modules load while the probes start; a failure to load is this scan's error,
    // raised once the probes are back (each endpoint's analysis has reported it by then).
    const loading = this.loadAnalysis();
    loading.catch(() => undefined);
    const probes = await probing;
    if (!opts.signal?.aborted) this.slow.record(probes);
    await loading;
    const results = await Promise.all(probes.map((p) => analyses.get(p) ?? examine(p)));
    return this.judge(startedAt, results, await pass, opts);
  }

  /** The stages after probing, for probes made elsewhere (test/bench feeds synthetic fleets through it). */
  async scanProbes(probes: readonly ProbeResult[], opts: ScanOptions = {}): Promise<ScanResult> {
    const startedAt = (opts.now ?? (() => new Date()))();
    const pass = this.revocationPass(opts.signal);
    const endpoints = await Promise.all(probes.map((p) => this.examine(p, startedAt, pass, opts.onInternalError)));
    return this.judge(startedAt, endpoints, await pass, opts);
  }

  /** This scan's revocation checks; null when revocation checking is off. */
  private revocationPass(signal: AbortSignal | undefined): Promise<ScanPass | null> {
    const pass = this.loadAnalysis().then(({ revocation }) => revocation?.startPass(signal) ?? null);
    // A failure to load is raised where the scan awaits the analysis modules.
    pass.catch(() => undefined);
    return pass;
  }

  /** One endpoint's analysis, then its revocation checks. */
  private async examine(
    probe: ProbeResult,
    now: Date,
    pass: Promise<ScanPass | null>,
    onInternalError: ScanOptions['onInternalError'],
  ): Promise<EndpointResult> {
    const analysed = await this.analyze(probe, now, onInternalError);
    const revocation = await pass;
    return revocation ? revocation.endpoint(analysed) : analysed;
  }

  private loadAnalysis(): Promise<Analysis> {
    this.analysis ??= (async () => {
      const { config } = this;
      const [{ ChainAnalyzer }, checker] = await Promise.all([
        import('../chain/analyzer.js'),
        config.revocation.enabled ? import('../revocation/checker.js') : null,
      ]);
      return {
        analyzer: new ChainAnalyzer({ anchorsPem: config.trust.caPems, systemRoots: config.trust.systemRoots, expiryWarningMs: config.scan.expiryWarningMs }),
        revocation: checker ? new checker.RevocationChecker(config.revocation) : null,
      };
    })();
    return this.analysis;
  }

  private async judge(startedAt: Date, endpointResults: EndpointResult[], revocation: ScanPass | null, opts: ScanOptions): Promise<ScanResult> {
    const now = opts.now ?? (() => new Date());
    const { analyzer } = await this.loadAnalysis();
    const policies = judgePolicies(this.config.policies, endpointResults);
    const finishedAt = now();
    const changes = opts.baseline ? opts.baseline.apply(endpointResults, finishedAt, this.config.state.retentionMs) : [];
    analyzer.scanFinished();
    return {
      startedAt,
      finishedAt,
      endpoints: endpointResults,
      policies,
      changes,
      ...(revocation ? { revocationUrls: revocation.urls() } : {}),
    };
  }

  private async analyze(probe: ProbeResult, now: Date, onInternalError: ScanOptions['onInternalError']): Promise<EndpointResult> {
    if (probe.error || probe.presented.length === 0) return { probe, analysis: null };
    const e = probe.endpoint;
    let analysis: Awaited<ReturnType<ChainAnalyzer['analyze']>>;
    try {
      const { analyzer } = await this.loadAnalysis();
      analysis = await analyzer.analyze(probe.presented, e.sni ?? e.host, now);
    } catch (err) {
      // Whatever one server sent must not take the scan of the others down with it.
      onInternalError?.(e, err);
      const message = `the presented chain could not be analysed (${(err as Error).message}); this is a chainwatch bug — please report it with the chain (openssl s_client -showcerts)`;
      return { probe: { ...probe, error: { kind: 'internal', message } }, analysis: null };
    }
    if (isUnreadable(analysis)) {
      const message = `${analysis.unreadable}; TLS clients will reject this server — replace its certificate`;
      return { probe: { ...probe, error: { kind: 'malformed_certificate', message } }, analysis: null };
    }
    return { probe, analysis };
  }
}

const scanners = new WeakMap<Config, Scanner>();

/** Runs one scan, reusing the analyzer built for this config object. */
export function runScan(config: Config, opts: ScanOptions = {}): Promise<ScanResult> {
  let scanner = scanners.get(config);
  if (!scanner) {
    scanner = new Scanner(config);
    scanners.set(config, scanner);
  }
  return scanner.scan(opts);
}
