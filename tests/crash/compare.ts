import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Bookkeeping, not facts: runs (a killed run leaves an interrupted one), per-day API call counts
 * (a restarted page is asked for again), the audit trail, when migrations were applied, and the
 * adoption report's kept weeks (a cache keyed by the data version, computed again when missing: a
 * kill while an import warms it leaves fewer rows, and its rows' JSON lists groups in any order).
 */
export const BOOKKEEPING = [
  'collection_runs',
  'api_budget',
  'audit_log',
  'schema_migrations',
  'adoption_week_figures',
];

/**
 * Our own timestamps that the database's clock sets (SQL now()), not the process clock the test
 * freezes. Every other column is compared, the frozen-clock timestamps (collected_at, seen_at,
 * scored_at, imported_at ...) included.
 */
export const OWN_TIMESTAMPS: Record<string, string[]> = { employees: ['updated_at'] };

/**
 * Bookkeeping rows inside fact tables: the hashes of the last config seen (the audit log's
 * config.change entries compare against them; each run's config names its own database file).
 */
export const BOOKKEEPING_ROWS: Record<string, string> = { meta: "key <> 'config_section_hashes'" };

export interface TableDiff {
  table: string;
  rows: number;
  /** Rows of the uninterrupted run missing from the other (multiset difference). */
  lost: number;
  /** Rows in the other beyond the uninterrupted run's (duplicates or strays). */
  extra: number;
  /** md5 over the sorted md5s of the rows, per database. */
  digest: string;
  otherDigest: string;
}

/** Opens both files read-only in one in-memory DuckDB and compares every table but bookkeeping. */
export async function compareDatabases(reference: string, other: string): Promise<TableDiff[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${reference.replaceAll("'", "''")}' AS ref (READ_ONLY)`);
    await conn.run(`ATTACH '${other.replaceAll("'", "''")}' AS got (READ_ONLY)`);
    const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
    const tables = (
      await rows(
        "SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'ref' AND schema_name = 'main' ORDER BY 1",
      )
    )
      .map((r) => String(r.t))
      .filter((t) => !BOOKKEEPING.includes(t));
    const out: TableDiff[] = [];
    for (const t of tables) {
      const skip = OWN_TIMESTAMPS[t];
      const cols = skip ? `* EXCLUDE (${skip.join(', ')})` : '*';
      const where = BOOKKEEPING_ROWS[t] ? ` WHERE ${BOOKKEEPING_ROWS[t]}` : '';
      const digest = async (db: string) => {
        const [r] = await rows(
          `SELECT count(*) AS n, coalesce(md5(string_agg(h, ',' ORDER BY h)), '') AS d
           FROM (SELECT md5(CAST(x AS VARCHAR)) AS h FROM (SELECT ${cols} FROM ${db}.main."${t}"${where}) x)`,
        );
        return { n: Number(r?.n), d: String(r?.d) };
      };
      const count = async (a: string, b: string) => {
        const [r] = await rows(
          `SELECT count(*) AS n FROM (SELECT ${cols} FROM ${a}.main."${t}"${where} EXCEPT ALL SELECT ${cols} FROM ${b}.main."${t}"${where})`,
        );
        return Number(r?.n);
      };
      const ref = await digest('ref');
      const got = await digest('got');
      out.push({
        table: t,
        rows: ref.n,
        lost: await count('ref', 'got'),
        extra: await count('got', 'ref'),
        digest: ref.d,
        otherDigest: got.d,
      });
    }
    return out;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
