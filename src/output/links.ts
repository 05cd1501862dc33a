// The status page's addresses, in one place: the page's own links and the links alerts, chat
// cards and dashboards put in front of people must agree, or an alert leads nowhere.

/** Path of one target's page on the status page: /targets/<name>, the name percent-encoded. */
export function targetPath(target: string): string {
  return `/targets/${encodeURIComponent(target)}`;
}

/** The target's page under server.external_url (what alerts and webhook cards link to). */
export function targetPageLink(externalUrl: string, target: string): string {
  return `${externalUrl.replace(/\/+$/, '')}${targetPath(target)}`;
}

/** The target name in a /targets/<name> path, or null when the path is not a target page. */
export function targetFromPath(path: string): string | null {
  const m = /^\/targets\/([^/]+)\/?$/.exec(path);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}
