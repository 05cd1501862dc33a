/** A mistake on the command line: printed with the usage hint, exit code 2. */
export class UsageError extends Error {}

export const USAGE = `chainwatch — watches the TLS certificate chains of a fleet

Usage:
  chainwatch run --config FILE [--shard I/N|auto/N]
                                          run the daemon (metrics, status page, alerts); with
                                          --shard (or CHAINWATCH_SHARD) only shard I of N, auto
                                          taking I from a StatefulSet pod name NAME-I in HOSTNAME
  chainwatch scan --config FILE [--format table|json] [--target NAME]... [--shard I/N] [--save]
                                          scan once and print the report
  chainwatch check-config --config FILE [--shards N]
                                          validate a config and summarise it; with --shards,
                                          print which targets and policies each shard gets
  chainwatch healthcheck --config FILE    exit 0 when the daemon of this config answers /healthz
                                          (for container health checks)
  chainwatch import-topology FILE.xml     turn a Lync topology export into a config (stdout)
  chainwatch demo                         run a simulated Lync fleet on loopback with the daemon
  chainwatch --version | --help

Exit codes: 0 fine; 1 scan found something (divergence, failed probe, problem); 2 bad config or usage.
`;
