import { defaultConfig, loadConfigFile } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';

/** The config named with --config, or the built-in defaults. */
export function loadFromOption(file: string | undefined): LoadedConfig {
  return file === undefined ? defaultConfig() : loadConfigFile(file);
}
