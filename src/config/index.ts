export { ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export { loadConfig, parseConfig } from './load.js';
export { summarizeConfig, redactUrl } from './summary.js';
export { OPTIONS, type OptionRow } from './options.js';
export { parseDuration, formatDuration } from './duration.js';
export type * from './types.js';
