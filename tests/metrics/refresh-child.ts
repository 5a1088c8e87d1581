/**
 * A child process for tests/metrics/slices.test.ts: refreshes the rollups of the database at
 * argv[2] in the zone argv[3], one day a transaction, and SIGKILLs itself as soon as argv[4] of
 * those transactions have committed: a crash between two slices, at a point the test chooses.
 */
import { refreshRollups } from '../../pipeline/scoring/rollups.js';
import { Store } from '../../pipeline/store.js';

const [path = '', tz = '', after = '1'] = process.argv.slice(2);
const store = await Store.open(path);
let committed = 0;
const write = store.write.bind(store);
store.write = (async (fn: Parameters<Store['write']>[0]) => {
  const result = await write(fn);
  if (++committed >= Number(after)) process.kill(process.pid, 'SIGKILL');
  return result;
}) as Store['write'];
await refreshRollups(store, tz, { sliceMentions: 1, compactRows: 1 });
store.close();
