// The overview's filters, read from the query string so they work without JavaScript and can be
// bookmarked: ?group=web&state=failing.

import type { EndpointReport } from '../report.js';
import { expirySeverity, type PageContext } from './view.js';

export const STATES = ['all', 'divergent', 'failing', 'problems', 'expiring', 'ok'] as const;
export type StateFilter = (typeof STATES)[number];

export interface Filters {
  /** Null: every group. */
  group: string | null;
  state: StateFilter;
}

export function parseFilters(query: URLSearchParams): Filters {
  const group = query.get('group');
  const state = query.get('state');
  return {
    group: group === null || group === '' ? null : group,
    state: (STATES as readonly string[]).includes(state ?? '') ? (state as StateFilter) : 'all',
  };
}

/** Whether an endpoint is in the given state; `divergent` holds the keys of divergent endpoints. */
export function inState(t: EndpointReport, state: StateFilter, divergent: ReadonlySet<string>, ctx: PageContext): boolean {
  const leaf = t.chain[0];
  const expiring = leaf !== undefined && expirySeverity(leaf.notAfter, ctx) !== 'ok';
  switch (state) {
    case 'all':
      return true;
    case 'divergent':
      return divergent.has(t.key);
    case 'failing':
      return !t.ok;
    case 'problems':
      return t.problems.length > 0;
    case 'expiring':
      return expiring;
    case 'ok':
      return t.ok && t.problems.length === 0 && !divergent.has(t.key) && !expiring;
  }
}
