import { type AdoptionReportArgs, adoptionReport } from '../../pipeline/adoption/report.js';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { CANONICAL, fixture, importAt } from '../imports/helpers.js';

/** The reporting zone of the golden tests: a window's days are Seoul days. */
export const TZ = 'Asia/Seoul';

/** A fresh database holding the canonical fixture set (tests/fixtures/adoption/canonical). */
export async function openCanonical(): Promise<{ store: Store; cleanup: () => void }> {
  const opened = await openTestStore();
  await importAt(opened.store, 'auto', CANONICAL.map(fixture));
  return opened;
}

export function report(store: Store, args: AdoptionReportArgs = {}, minGroupSize = 5) {
  return adoptionReport(store, { timezone: TZ, minGroupSize }, args);
}

/** The value of a published figure; fails the test when it is withheld or missing. */
export function value(
  figures: Record<string, { value: number | null; withheld?: string }> | undefined,
  name: string,
) {
  const f = figures?.[name];
  if (!f) throw new Error(`no figure ${name}`);
  if (f.withheld) throw new Error(`figure ${name} is withheld (${f.withheld})`);
  return f.value;
}
