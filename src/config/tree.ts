// The config file as the readers see it: mappings, lists and scalars with the offsets they were
// written at. Two parsers produce it (the quick one for the plain YAML configs are written in,
// the `yaml` package for everything else), so the readers never depend on either.

export interface ScalarNode {
  readonly kind: 'scalar';
  /** As YAML 1.2's core schema reads it: string, number, boolean or null (other types from tags). */
  readonly value: unknown;
  /** Offset of the first character (a quote, for quoted text). */
  readonly start: number;
  /** Offset just past the value; equal to start for a value left empty (`key:`). */
  readonly end: number;
}

export interface MapPair {
  readonly key: ConfigNode | null;
  readonly value: ConfigNode | null;
}

export interface MapNode {
  readonly kind: 'map';
  readonly items: MapPair[];
  readonly start: number;
  readonly end: number;
}

export interface SeqNode {
  readonly kind: 'seq';
  readonly items: (ConfigNode | null)[];
  readonly start: number;
  readonly end: number;
}

export type ConfigNode = ScalarNode | MapNode | SeqNode;

export const isMap = (node: ConfigNode | null | undefined): node is MapNode => node?.kind === 'map';
export const isSeq = (node: ConfigNode | null | undefined): node is SeqNode => node?.kind === 'seq';
export const isScalar = (node: ConfigNode | null | undefined): node is ScalarNode => node?.kind === 'scalar';

/** A value from the options table as if it had been written (at offset 0): defaults are read like input. */
export function nodeOf(value: string | number | boolean | null | readonly (string | number | boolean)[]): ConfigNode {
  if (Array.isArray(value)) return { kind: 'seq', items: value.map((v) => nodeOf(v)), start: 0, end: 0 };
  return { kind: 'scalar', value, start: 0, end: 0 };
}

/** Line and column (1-based) of offsets, for messages; the line starts are found on first use only. */
export class LineIndex {
  private starts: number[] | null = null;

  constructor(private readonly text: string) {}

  position(offset: number): { line: number; column: number } {
    if (this.starts === null) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.starts = starts;
    }
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }
}
