// Durations are written the way operators say them: 10s, 1.5m, 30d. A bare number is refused
// because nobody can tell whether `timeout: 10` meant seconds or milliseconds.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION = /^(\d{1,12}(?:\.\d{1,9})?)\s*(ms|s|m|h|d)$/;

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as Unit]);
  return Number.isFinite(ms) ? ms : null;
}

/** The shortest exact rendering, for summaries: 90000 → '1.5m', 2592000000 → '30d'. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = ms / UNIT_MS[unit];
    if (n >= 1 && Number.isInteger(n * 10)) return `${n}${unit}`;
  }
  return `${ms}ms`;
}
