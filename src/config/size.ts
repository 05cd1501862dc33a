// Sizes are written the way operators say them: 512KB, 20MB, 1GB (1024-based, as Prometheus and
// most tools mean them; KiB, MiB and GiB are accepted too). A bare number is refused like a
// unit-less duration: nobody can tell whether 20 meant bytes or megabytes.

const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };

const SIZE = /^(\d{1,12}(?:\.\d{1,6})?)\s*([kmg]i?b|b)$/i;

/** Bytes, or null when the text is not a size. */
export function parseSize(text: string): number | null {
  const m = SIZE.exec(text.trim());
  if (!m) return null;
  const bytes = Math.round(Number(m[1]) * UNIT_BYTES[m[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** The shortest exact rendering, for summaries: 20971520 → '20MB'. */
export function formatSize(bytes: number): string {
  for (const unit of ['GB', 'MB', 'KB'] as const) {
    const n = bytes / UNIT_BYTES[unit.toLowerCase()]!;
    if (n >= 1 && Number.isInteger(n * 10)) return `${n}${unit}`;
  }
  return `${bytes}B`;
}
