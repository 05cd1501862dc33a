// Wording shared by the alert annotations: endpoint names as operators say them, durations and
// lists in words. CAs are printed by chain/ca-label.ts.

/** "web2 (10.1.2.5)", or just "web2" when the address is unknown. */
export function endpointLabel(target: string, address: string | null | undefined): string {
  return address ? `${target} (${address})` : target;
}

/** Whole days, rounded towards the nearer edge a person cares about (never "0 days" for 30h). */
export function daysText(ms: number): string {
  const days = Math.floor(Math.abs(ms) / 86_400_000);
  if (days === 0) {
    const hours = Math.max(1, Math.floor(Math.abs(ms) / 3_600_000));
    return hours === 1 ? '1 hour' : `${hours} hours`;
  }
  return days === 1 ? '1 day' : `${days} days`;
}

/** "a, b or c" */
export function orList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
