export { KEYS, SECRET_KEYS, type ConfigKey, type ResolvedConfig } from './keys.js';
export {
  loadConfig,
  loadConfigOrThrow,
  formatProblems,
  redactConfig,
  type ConfigSources,
  type ConfigResult,
  type ConfigProblem,
  type RawValues,
  type Layer,
} from './load.js';
export { renderConfigDoc } from './docs.js';
