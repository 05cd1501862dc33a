// "Did you mean" for unknown keys. Optimal string alignment distance, so a swapped pair of
// letters (prot → port) counts as one edit.

function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

const squash = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');

/** The known key the operator most likely meant, or null when nothing is close. */
export function nearestKey(unknown: string, known: readonly string[]): string | null {
  if (unknown.length > 64) return null;
  const target = squash(unknown);
  // camelCase or kebab-case spellings of a snake_case key.
  const same = known.find((k) => squash(k) === target);
  if (same) return same;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(target, squash(k));
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(target.length / 3)));
  return bestDistance <= allowed ? best : null;
}
