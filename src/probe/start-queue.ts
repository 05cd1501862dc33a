/**
 * Connections kept for the rest of the fleet while slow endpoints wait: an eighth of the
 * connections, at least one. Fewer would leave the healthy endpoints crawling behind the slow
 * ones; more would keep slow ones waiting to start, and the scan open after the rest is done.
 */
export function slowCap(concurrency: number): number {
  return Math.max(1, Math.floor(concurrency) - Math.max(1, Math.ceil(concurrency / 8)));
}

/**
 * Endpoints waiting to start, the slow ones (black holes, hosts that were down last scan) in a
 * queue of their own. They start first, so that their wait overlaps the probing of the others
 * instead of holding the scan open at its end; but no more than `cap` of them at once while
 * others wait, so that the rest of the fleet keeps some connections.
 */
export class StartQueue<T> {
  private readonly slow: T[] = [];
  private readonly other: T[] = [];
  private slowHead = 0;
  private otherHead = 0;

  push(item: T, slow: boolean): void {
    (slow ? this.slow : this.other).push(item);
  }

  get size(): number {
    return this.slow.length - this.slowHead + this.other.length - this.otherHead;
  }

  /** The next to start, given how many slow ones are running; null when none waits. */
  take(slowRunning: number, cap: number): { item: T; slow: boolean } | null {
    const slowWaiting = this.slowHead < this.slow.length;
    const otherWaiting = this.otherHead < this.other.length;
    if (slowWaiting && (slowRunning < cap || !otherWaiting)) return { item: this.shift(this.slow, 'slowHead'), slow: true };
    if (otherWaiting) return { item: this.shift(this.other, 'otherHead'), slow: false };
    return null;
  }

  private shift(queue: T[], head: 'slowHead' | 'otherHead'): T {
    const item = queue[this[head]++]!;
    // Drop what has started once it is most of the array, so a long scan does not keep it all.
    if (this[head] > 1024 && this[head] * 2 > queue.length) {
      queue.splice(0, this[head]);
      this[head] = 0;
    }
    return item;
  }
}
