/**
 * Local model layers (pipeline/sentiment/learn.ts fits them): stored in the database, not in
 * data/models/, because they belong to one installation's corrections. They travel with its backups,
 * are written through the server that owns the file like any verb, and leave the shipped weight
 * files untouched (a new release's weights simply stop matching an old layer's base model).
 */
import { blobValue, type DuckDBConnection } from '@duckdb/node-api';
import { appendRows } from '../ingest.js';
import type { Store } from '../store.js';
import { defaultModelsDir, type LocalLayer, loadSentimentModels, type SentimentModels } from './index.js';

export type ModelLang = 'en' | 'ko';
export type LocalLayers = Partial<Record<ModelLang, LocalLayer>>;
export const MODEL_LANGS: readonly ModelLang[] = ['en', 'ko'];

/** Per bucket: u32 index and 3 x f32 deltas; little-endian, by bucket. */
export function encodeLayer(layer: LocalLayer): Buffer {
  const body = Buffer.alloc(16 * layer.deltas.size);
  let at = 0;
  for (const [bucket, d] of [...layer.deltas].sort((a, b) => a[0] - b[0])) {
    body.writeUInt32LE(bucket, at);
    for (let k = 0; k < 3; k++) body.writeFloatLE(d[k] as number, at + 4 + 4 * k);
    at += 16;
  }
  return body;
}

export function decodeLayer(version: number, body: Uint8Array): LocalLayer {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const deltas = new Map<number, Float32Array>();
  for (let at = 0; at + 16 <= buf.length; at += 16) {
    deltas.set(
      buf.readUInt32LE(at),
      Float32Array.of(buf.readFloatLE(at + 4), buf.readFloatLE(at + 8), buf.readFloatLE(at + 12)),
    );
  }
  return { version, deltas };
}

/** Stores a new layer version and the mentions it was trained on, in the caller's transaction. */
export async function saveLayer(
  conn: DuckDBConnection,
  row: { lang: ModelLang; baseModel: string; createdAt: string; heldOut: number },
  layer: Omit<LocalLayer, 'version'>,
  trainedOn: ReadonlyArray<readonly [source: string, nativeId: string]>,
): Promise<number> {
  const reader = await conn.runAndReadAll(
    'SELECT coalesce(max(version), 0) + 1 AS v FROM sentiment_layers WHERE lang = $1',
    [row.lang],
  );
  const version = Number(reader.getRowObjectsJS()[0]?.v);
  await conn.run('INSERT INTO sentiment_layers VALUES ($1, $2, $3, $4::TIMESTAMPTZ, $5, $6, $7)', [
    row.lang,
    version,
    row.baseModel,
    row.createdAt,
    trainedOn.length,
    row.heldOut,
    blobValue(encodeLayer({ ...layer, version })),
  ]);
  await appendRows(
    conn,
    'sentiment_layer_training',
    trainedOn.map(([source, id]) => [row.lang, version, source, id]),
  );
  return version;
}

let shipped: SentimentModels | undefined;
const layered = new WeakMap<Store, { key: string; models: SentimentModels }>();

/** The shipped models, loaded once per process. */
export function shippedModels(): SentimentModels {
  shipped ??= loadSentimentModels();
  return shipped;
}

/** The newest layer per language built on the shipped model now in use. */
export async function newestLayers(store: Store): Promise<LocalLayers> {
  const base = shippedModels();
  const rows = await store.query(
    `SELECT lang, version, deltas FROM sentiment_layers
     WHERE (lang = 'en' AND base_model = $en) OR (lang = 'ko' AND base_model = $ko)
     QUALIFY version = max(version) OVER (PARTITION BY lang)`,
    { en: base.en.id, ko: base.ko.id },
  );
  return Object.fromEntries(
    rows.map((r) => [String(r.lang), decodeLayer(Number(r.version), r.deltas as Uint8Array)]),
  );
}

/**
 * The models this installation scores with: the shipped ones, with the newest local layer of each
 * language on top when there is one (`layers`, also handed to the scoring workers). Re-read only
 * when a new layer version appears.
 */
export async function installedModels(
  store: Store,
): Promise<{ models: SentimentModels; layers: LocalLayers }> {
  const layers = await newestLayers(store);
  const key = MODEL_LANGS.map((l) => layers[l]?.version ?? 0).join('|');
  if (key === '0|0') return { models: shippedModels(), layers };
  let cached = layered.get(store);
  if (cached?.key !== key) {
    cached = { key, models: loadSentimentModels(defaultModelsDir, layers) };
    layered.set(store, cached);
  }
  return { models: cached.models, layers };
}
