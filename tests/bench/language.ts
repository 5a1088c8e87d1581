/**
 * npm run bench:language -- --data <dir> [--candidates <dir>] [--only <regexp of candidate names>] [--errors N]
 *
 * Accuracy per label, the confusion table and texts/s of earshot's detectLanguage on the sets
 * language-prep.ts writes into <dir> (`<label>.tsv`, lines `origin<TAB>text`). With --candidates
 * (a scratch npm project where the libraries compared are installed, e.g. /tmp/langbench) the
 * same for each of them, called directly on the raw text with their codes mapped to our labels,
 * so the library chosen is measured bare and inside earshot's wrapper. Speed is one core, one
 * process, after loading; numbers are noisy when other work runs on the machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { detectLanguage, LANGS, type Lang, libraryStats } from '../../pipeline/language/detect.js';

interface Sample {
  label: Lang;
  origin: string;
  text: string;
}
interface Candidate {
  name: string;
  /** Installed package whose directory size is reported. */
  pkg: string | null;
  detect: (text: string) => Lang | Promise<Lang>;
  /** Milliseconds to import and initialise (cold, in this process). */
  loadMs: number;
}

/** ISO 639-1/-3 and BCP 47 answers of the libraries onto our labels; anything else is other. */
export function labelOf(code: string | undefined): Lang {
  const base =
    (code ?? '')
      .toLowerCase()
      .replace(/^__label__/, '')
      .split(/[-_]/)[0] ?? '';
  if (base === 'ko' || base === 'kor') return 'ko';
  if (base === 'en' || base === 'eng') return 'en';
  if (base === 'ja' || base === 'jpn') return 'ja';
  if (base === 'zh' || base === 'cmn' || base === 'zho' || base === 'yue' || base === 'wuu') return 'zh';
  return 'other';
}

function load(dir: string): Sample[] {
  return LANGS.flatMap((label) => {
    const file = join(dir, `${label}.tsv`);
    if (!existsSync(file)) throw new Error(`${file} is missing: run language-prep first`);
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf('\t');
        return { label, origin: line.slice(0, tab), text: line.slice(tab + 1) };
      });
  });
}

/** require.resolve, or the "import" target of an ESM-only subpath export (eld/large) it refuses. */
function resolveImport(require: NodeJS.Require, dir: string, spec: string): string {
  try {
    return require.resolve(spec);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
    const [scopeOrName, ...rest] = spec.split('/');
    const root = join(dir, 'node_modules', scopeOrName ?? '');
    const exports = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports;
    const target = exports?.[`./${rest.join('/')}`]?.import;
    if (typeof target !== 'string') throw error;
    return join(root, target);
  }
}

async function candidates(dir: string, only: RegExp | null): Promise<Candidate[]> {
  const require = createRequire(join(dir, 'package.json'));
  // biome-ignore lint/suspicious/noExplicitAny: third-party modules measured without their types
  const mod = async (spec: string): Promise<any> =>
    import(pathToFileURL(resolveImport(require, dir, spec)).href);
  const out: Candidate[] = [];
  const add = async (name: string, pkg: string, make: () => Promise<Candidate['detect']>) => {
    if (only && !only.test(name)) return;
    try {
      const start = performance.now();
      const detect = await make();
      out.push({ name, pkg, detect, loadMs: performance.now() - start });
    } catch (error) {
      console.error(`${name}: not measured (${(error as Error).message})`);
    }
  };
  for (const size of ['large', 'medium', 'small']) {
    await add(`eld/${size}`, 'eld', async () => {
      const { eld } = await mod(`eld/${size}`);
      return (t) => labelOf(eld.detect(t).language);
    });
  }
  await add('tinyld', 'tinyld', async () => {
    const { detect } = await mod('tinyld');
    return (t) => labelOf(detect(t));
  });
  await add('tinyld/light', 'tinyld', async () => {
    const { detect } = await mod('tinyld/light');
    return (t) => labelOf(detect(t));
  });
  for (const pkg of ['franc-min', 'franc', 'franc-all']) {
    await add(pkg, pkg, async () => {
      const { franc } = await mod(pkg);
      return (t) => labelOf(franc(t, { minLength: 1 }));
    });
  }
  await add('cld3-asm', 'cld3-asm', async () => {
    const { loadModule } = await mod('cld3-asm');
    const identifier = (await loadModule()).create(0, 1000);
    return (t) => labelOf(identifier.findLanguage(t).language);
  });
  await add('lande', 'lande', async () => {
    const lande = (await mod('lande')).default;
    return (t) => labelOf(lande(t)[0]?.[0]);
  });
  await add('fasttext.wasm.js (lid.176)', 'fasttext.wasm.js', async () => {
    const { getLIDModel } = await mod('fasttext.wasm.js');
    const model = await getLIDModel();
    await model.load();
    return async (t) => labelOf((await model.identify(t.replace(/\n/g, ' '))).alpha2);
  });
  await add('languagedetect', 'languagedetect', async () => {
    const LanguageDetect = (await mod('languagedetect')).default;
    const detector = new LanguageDetect();
    detector.setLanguageType('iso2');
    return (t) => labelOf(detector.detect(t, 1)[0]?.[0]);
  });
  return out;
}

function packageSize(dir: string | undefined, pkg: string | null): string {
  if (!dir || !pkg) return '-';
  const root = join(dir, 'node_modules', pkg);
  return execFileSync('du', ['-sh', root], { encoding: 'utf8' }).split('\t')[0] ?? '-';
}

async function measure(candidate: Candidate, samples: Sample[]) {
  const confusion = new Map<Lang, Map<Lang, number>>(
    LANGS.map((l) => [l, new Map(LANGS.map((p) => [p, 0]))]),
  );
  const seconds = new Map<Lang, number>(LANGS.map((l) => [l, 0]));
  const answers: Lang[] = [];
  // Warm-up on texts of every label, so lazy loading (earshot loads eld on first need) is not timed.
  for (const label of LANGS)
    for (const s of samples.filter((x) => x.label === label).slice(0, 40)) await candidate.detect(s.text);
  // Timed per label (the samples are grouped by label) so the rate of each kind of text shows.
  const viaLibrary = new Map<Lang, number>();
  for (const label of LANGS) {
    const calls = libraryStats().calls;
    const start = process.hrtime.bigint();
    for (const s of samples) if (s.label === label) answers.push(await candidate.detect(s.text));
    seconds.set(label, Number(process.hrtime.bigint() - start) / 1e9);
    viaLibrary.set(label, libraryStats().calls - calls);
  }
  samples.forEach((s, i) => {
    const row = confusion.get(s.label) as Map<Lang, number>;
    const got = answers[i] as Lang;
    row.set(got, (row.get(got) ?? 0) + 1);
  });
  const total = [...seconds.values()].reduce((a, b) => a + b, 0);
  const rates = LANGS.map((l) =>
    Math.round(samples.filter((s) => s.label === l).length / (seconds.get(l) ?? 1)),
  );
  const libraryShare = LANGS.map((l) =>
    pct(viaLibrary.get(l) ?? 0, samples.filter((s) => s.label === l).length),
  );
  return { confusion, rate: samples.length / total, rates, libraryShare, answers };
}

const pct = (n: number, d: number) => (d ? ((100 * n) / d).toFixed(1) : '-');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      candidates: { type: 'string' },
      only: { type: 'string' },
      errors: { type: 'string' },
    },
  });
  if (!values.data)
    throw new Error(
      'usage: --data <dir> [--candidates <scratch npm project>] [--only <regexp>] [--errors N]',
    );
  const samples = load(values.data);
  const counts = LANGS.map((l) => `${l} ${samples.filter((s) => s.label === l).length}`).join(', ');
  console.log(`texts: ${counts}\n`);
  const all: Candidate[] = [{ name: 'earshot detectLanguage', pkg: null, detect: detectLanguage, loadMs: 0 }];
  if (values.candidates) {
    all.push(...(await candidates(values.candidates, values.only ? new RegExp(values.only) : null)));
  }
  console.log(`| detector | ${LANGS.join(' | ')} | mean | texts/s | load ms | size |`);
  console.log(`|---|${LANGS.map(() => '---|').join('')}---|---|---|---|`);
  const tables: string[] = [];
  for (const c of all) {
    const { confusion, rate, rates, libraryShare, answers } = await measure(c, samples);
    const acc = LANGS.map((l) => {
      const row = confusion.get(l) as Map<Lang, number>;
      const total = [...row.values()].reduce((a, b) => a + b, 0);
      return Number(pct(row.get(l) ?? 0, total));
    });
    const mean = (acc.reduce((a, b) => a + b, 0) / acc.length).toFixed(1);
    console.log(
      `| ${c.name} | ${acc.join(' | ')} | ${mean} | ${Math.round(rate).toLocaleString('en')} | ${Math.round(c.loadMs)} | ${packageSize(values.candidates, c.pkg)} |`,
    );
    const lines = [
      `\n${c.name}: texts/s by true label ${LANGS.map((l, i) => `${l} ${rates[i]?.toLocaleString('en')}`).join(', ')}`,
      ...(c.pkg === null
        ? [`% of texts that needed the library: ${LANGS.map((l, i) => `${l} ${libraryShare[i]}`).join(', ')}`]
        : []),
      'rows = truth, columns = detected',
      `| | ${LANGS.join(' | ')} |`,
    ];
    for (const l of LANGS)
      lines.push(`| ${l} | ${LANGS.map((p) => confusion.get(l)?.get(p) ?? 0).join(' | ')} |`);
    const showErrors = Number(values.errors ?? 0);
    if (showErrors > 0 && c.pkg === null) {
      const wrong = samples.flatMap((s, i) =>
        answers[i] === s.label ? [] : [`${s.label}->${answers[i]} [${s.origin}] ${s.text}`],
      );
      lines.push(
        ...wrong
          .filter((_, i) => i % Math.max(1, Math.floor(wrong.length / showErrors)) === 0)
          .slice(0, showErrors),
      );
    }
    tables.push(lines.join('\n'));
  }
  console.log(tables.join('\n'));
}

await main();
