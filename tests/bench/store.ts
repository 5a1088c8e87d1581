import { loadConfig } from '../../pipeline/config.js';
import { Store } from '../../pipeline/store.js';

/** The database a benchmark opens, with EARSHOT_MEMORY_LIMIT applied the way `earshot` applies it. */
export function openBenchStore(path: string): Promise<Store> {
  const { memoryLimit } = loadConfig({
    EARSHOT_CONFIG: '',
    EARSHOT_DB: path,
    EARSHOT_MEMORY_LIMIT: process.env.EARSHOT_MEMORY_LIMIT,
  });
  return Store.open(path, undefined, memoryLimit === undefined ? {} : { memoryLimit });
}
