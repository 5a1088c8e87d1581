import type { GroupKey, PrivacyPlan } from '../privacy/suppress.js';
import type { Row } from '../store.js';
import { type Figure, figure, guarded, ratio, withheldFigure } from './figures.js';
import {
  addDays,
  type Dimension,
  eligibleSpansSql,
  historyAtSql,
  inWindowSql,
  keyId,
  keyOf,
  localDay,
  PLANNED_DIMENSIONS,
  type Population,
  sqlDay,
  sqlText,
  windowInteractionsSql,
} from './population.js';

/** Persona rule factor (DESIGN.md section 6): gives > K x receives, or the other way round. */
export const PERSONA_K = 2;
export const PERSONAS = ['observer', 'catalyst', 'broadcaster', 'responder', 'engager', 'inactive'] as const;

const DAILY = 'activity_daily';
const EVENTS = 'interactions';

/** Every window figure of one group (the company when the key is empty). */
export interface GroupMetrics {
  key: GroupKey;
  /** The whole group is withheld: no figure about it, not even its size, is given. */
  withheld: 'small' | 'complementary' | null;
  eligible?: number;
  figures?: Record<string, Figure>;
}

export interface TieBetween {
  a: GroupKey;
  b: GroupKey;
  /** Interactions in either direction between the two groups (membership at the time). */
  interactions: Figure;
}

/** A stretch of whole local days, both ends included: the window, or one week of the trend. */
export interface Span {
  id: string;
  start: string;
  end: string;
}

/** The id of the report window's span. */
export const WINDOW_SPAN = 'window';

/** Days before a span's last day its MAU looks back to, besides that day (28 days in all). */
const MAU_LOOKBACK = 27;

/**
 * Builds the spans' temp tables on the population's connection, once per report. Every span (the
 * window, each week of the trend) has its own eligible people and its own events, and every table
 * carries the span, so one body of SQL computes every figure of every span:
 *   s_spans   span (a number, for cheap joins), span_id, span_start, span_end
 *   s_days    each span's days (in_span), and the 28 days ending on its last day (in_month) for MAU
 *   s_people  each span's eligible people (eligibleSpansSql), with their groups on its last day
 *   s_events  each span's interactions between its eligible people, each end with its groups at the time
 *   s_pairs   each span's connected pairs, two-way or not, each end with its groups on the span's last day
 *   s_person  per span and person facts (never leaves the database)
 * Rows meet their spans through s_days, an equality join on the day (a few hundred days), not a
 * range join. spanMetrics and tiesBetween read them.
 */
export async function prepareSpans(pop: Population, spans: readonly Span[]): Promise<void> {
  // Spans are bits of a BIGINT in s_events.
  if (spans.length > 63) throw new Error(`prepareSpans: ${spans.length} spans, at most 63`);
  const { timeZone } = pop.window;
  const values = spans
    .map((s, i) => `(${i}, ${sqlText(s.id)}, ${sqlDay(s.start)}, ${sqlDay(s.end)})`)
    .join(', ');
  const first = spans.map((s) => s.start).sort()[0] ?? pop.window.start;
  const last =
    spans
      .map((s) => s.end)
      .sort()
      .at(-1) ?? pop.window.end;
  // MAU needs activity back to 27 days before the earliest span's last day.
  const activityFrom = [first, ...spans.map((s) => addDays(s.end, -MAU_LOOKBACK))].sort()[0] ?? first;
  const n = (c: string) => `coalesce(${c}, 0)`;
  const side = (alias: string, x: string) =>
    ['department', 'location', 'level']
      .map((d) => `coalesce(${alias}.${d}, '(none)') AS ${x}_${d}`)
      .concat(`coalesce(${alias}.is_manager OR ${alias}.is_executive, false) AS ${x}_leader`)
      .join(', ');
  await pop.db.query(
    `CREATE TEMP TABLE s_spans AS SELECT * FROM (VALUES ${values}) t(span, span_id, span_start, span_end)`,
  );
  await pop.db.query(`CREATE TEMP TABLE s_days AS
    SELECT span, day, day >= span_start AS in_span, day >= span_end - ${MAU_LOOKBACK} AS in_month,
      -- the span's whole 7-day blocks counted back from its last day (for WAU), else NULL
      CASE WHEN span_end - day < (span_end - span_start + 1) // 7 * 7 THEN (span_end - day) // 7 END AS block
    FROM (SELECT *, CAST(unnest(generate_series(least(span_start, span_end - ${MAU_LOOKBACK}), span_end, INTERVAL 1 DAY)) AS DATE) AS day
      FROM s_spans)`);
  // People are numbered (pn) so the many joins on a span's people join integers.
  await pop.db.query(
    'CREATE TEMP TABLE s_pn AS SELECT employee_id, CAST(row_number() OVER (ORDER BY employee_id) AS INTEGER) AS pn FROM employees',
  );
  await pop.db.query(`CREATE TEMP TABLE s_people AS
    SELECT p.*, n.pn FROM ${eligibleSpansSql('s_spans', sqlDay(pop.window.end))} p JOIN s_pn n USING (employee_id)`);
  // Eligibility and local day once per interaction (the spans each person is eligible in, as bits:
  // joins on the person alone, a small build side), then the spans it falls in, then the groups of
  // its ends at the time.
  await pop.db.query(`CREATE TEMP TABLE s_events AS
    WITH spans_of AS (
      SELECT employee_id, any_value(pn) AS pn, bit_or(CAST(1 AS BIGINT) << span) AS spans FROM s_people GROUP BY 1),
    ev AS (
      SELECT d.span, pa.pn AS f, pb.pn AS t, i.event_ts
      FROM ${windowInteractionsSql({ ...pop.window, start: first, end: last })} i
      JOIN spans_of pa ON pa.employee_id = i.from_employee_id
      JOIN spans_of pb ON pb.employee_id = i.to_employee_id
      JOIN s_days d ON d.day = ${localDay('i.event_ts', timeZone)} AND d.in_span
      WHERE (((pa.spans & pb.spans) >> d.span) & 1) = 1),
    history AS (SELECT h.*, n.pn FROM employee_history h JOIN s_pn n USING (employee_id))
    SELECT i.span, i.f, i.t, ${side('ha', 'a')}, ${side('hb', 'b')}
    FROM ev i
    ${historyAtSql('i.f', 'i.event_ts', 'ha', timeZone, 'history', 'pn')}
    ${historyAtSql('i.t', 'i.event_ts', 'hb', timeZone, 'history', 'pn')}`);
  // Connected pairs, once for every breakdown, each end with its groups on the span's last day.
  const ends = (x: string) => PLANNED_DIMENSIONS.map((d) => `${x}.${d} AS ${x}_${d}`).join(', ');
  await pop.db.query(`CREATE TEMP TABLE s_pairs AS
    WITH pairs AS (
      SELECT span, least(f, t) AS x, greatest(f, t) AS y, bool_or(f < t) AND bool_or(f > t) AS two_way
      FROM s_events GROUP BY 1, 2, 3)
    SELECT pr.span, pr.two_way, ${ends('px')}, ${ends('py')}
    FROM pairs pr JOIN s_people px ON px.span = pr.span AND px.pn = pr.x
    JOIN s_people py ON py.span = pr.span AND py.pn = pr.y`);
  // One row per person and day first, then per span: every day counts once however many platforms.
  await pop.db.query(`CREATE TEMP TABLE s_person AS
    WITH daily AS (
      SELECT employee_id, activity_date AS day, sum(${n('posts')}) AS posts,
        sum(${n('replies')} + ${n('reactions')}) AS rr,
        bool_or((${['posts', 'replies', 'reactions', 'reads', 'chat_messages', 'channel_messages', 'meetings_attended'].map(n).join(' + ')}) > 0) AS active
      FROM activity_daily
      WHERE employee_id IS NOT NULL AND activity_date BETWEEN ${sqlDay(activityFrom)} AND ${sqlDay(last)}
      GROUP BY 1, 2),
    act AS (
      SELECT d.span, a.employee_id,
        bool_or(a.active AND d.in_span) AS active,
        -- MAU: any active day in the 28 days ending on the span's last day
        bool_or(a.active AND d.in_month) AS monthly_active,
        sum(a.posts) FILTER (WHERE d.in_span) AS posts, sum(a.rr) FILTER (WHERE d.in_span) AS rr,
        count(*) FILTER (WHERE a.active AND d.in_span) AS active_days,
        -- distinct active blocks as bits (a span has at most 52 blocks)
        bit_count(bit_or(CAST(1 AS BIGINT) << d.block) FILTER (WHERE a.active AND d.in_span AND d.block IS NOT NULL)) AS active_blocks
      FROM daily a JOIN s_days d ON d.day = a.day
      GROUP BY 1, 2),
    receives AS (SELECT span, t AS pn, count(*) AS n FROM s_events GROUP BY ALL),
    with_leader AS (
      SELECT span, f AS pn FROM s_events WHERE b_leader
      UNION SELECT span, t FROM s_events WHERE a_leader)
    SELECT p.*, coalesce(a.active, false) AS active, coalesce(a.monthly_active, false) AS monthly_active,
      coalesce(a.posts, 0) + coalesce(a.rr, 0) AS contributions,
      coalesce(a.active_days, 0) AS active_days, coalesce(a.active_blocks, 0) AS active_blocks,
      w.pn IS NOT NULL AS with_leader,
      CASE
        WHEN NOT coalesce(a.active, false) THEN 'inactive'
        WHEN coalesce(a.posts, 0) + coalesce(a.rr, 0) = 0 AND coalesce(r.n, 0) = 0 THEN 'observer'
        WHEN coalesce(r.n, 0) > ${PERSONA_K} * (coalesce(a.posts, 0) + coalesce(a.rr, 0)) THEN 'catalyst'
        WHEN coalesce(a.posts, 0) + coalesce(a.rr, 0) > ${PERSONA_K} * coalesce(r.n, 0)
          THEN CASE WHEN coalesce(a.posts, 0) >= coalesce(a.rr, 0) THEN 'broadcaster' ELSE 'responder' END
        ELSE 'engager' END AS persona
    FROM s_people p
    LEFT JOIN act a USING (span, employee_id)
    LEFT JOIN receives r USING (span, pn)
    LEFT JOIN with_leader w USING (span, pn)`);
}

// Every grouped query groups by the span first, then by the dimensions.
const cols = (dims: readonly string[], prefix = '') =>
  ['span', ...dims].map((d) => `${prefix}${d}`).join(', ');
const groupBy = (dims: readonly string[]) => `GROUP BY ${cols(dims)}`;
const partition = (dims: readonly string[]) => `PARTITION BY ${cols(dims)}`;
const select = (dims: readonly string[], prefix = '') => `${cols(dims, prefix)},`;

async function participationRows(pop: Population, dims: readonly Dimension[]): Promise<Row[]> {
  return pop.db.query(`WITH ranked AS (
      SELECT *, row_number() OVER (${partition(dims)} ORDER BY contributions) AS rk_asc,
        count(*) OVER (${partition(dims)}) AS n
      FROM s_person)
    SELECT ${select(dims)} any_value(span_id) AS span_id, count(*) AS eligible,
      any_value(span_end - span_start + 1) AS days,
      count(*) FILTER (WHERE active) AS active,
      count(*) FILTER (WHERE monthly_active) AS monthly_active,
      count(*) FILTER (WHERE contributions > 0) AS participants,
      sum(active_days) AS active_days, sum(active_blocks) AS active_blocks,
      count(*) FILTER (WHERE leader = 'yes') AS leaders,
      count(*) FILTER (WHERE leader = 'yes' AND contributions > 0) AS leaders_participating,
      count(*) FILTER (WHERE leader = 'no') AS others,
      count(*) FILTER (WHERE leader = 'no' AND contributions > 0) AS others_participating,
      count(*) FILTER (WHERE leader = 'no' AND with_leader) AS others_with_leader,
      ${PERSONAS.map((p) => `count(*) FILTER (WHERE persona = '${p}') AS persona_${p}`).join(', ')},
      sum(contributions) AS contributions,
      -- Gini from ascending ranks: sum((2i - n - 1) x_i) / (n sum x)
      sum((2 * rk_asc - n - 1) * contributions) AS gini_num,
      ceil(max(n) * 0.01) AS top1_people, ceil(max(n) * 0.10) AS top10_people,
      -- the top k by contributions are the last k ranks (however ties are ordered, their sum is the same)
      sum(contributions) FILTER (WHERE rk_asc > n - ceil(n * 0.01)) AS top1_contributions,
      sum(contributions) FILTER (WHERE rk_asc > n - ceil(n * 0.10)) AS top10_contributions
    FROM ranked ${groupBy(dims)}`);
}

async function tieRows(pop: Population, dims: readonly Dimension[]): Promise<Row[]> {
  // An interaction touches the groups of both its ends (at the time), once when they are the same.
  const same = dims.map((d) => `a_${d} = b_${d}`).join(' AND ') || 'true';
  const as = (x: string) => dims.map((d) => `${x}_${d} AS ${d}`).join(', ') + (dims.length ? ',' : '');
  return pop.db.query(`WITH ev AS (SELECT *, ${same} AS internal FROM s_events),
    ends AS (
      SELECT ${as('a')} * FROM ev
      UNION ALL
      SELECT ${as('b')} * FROM ev WHERE NOT internal),
    -- Pairs belong to the groups of both people on the span's last day, once when the same.
    pair_ends AS (
      SELECT ${select(dims.map((d) => `px_${d} AS ${d}`))} two_way FROM s_pairs
      UNION ALL
      SELECT ${select(dims.map((d) => `py_${d} AS ${d}`))} two_way FROM s_pairs
      WHERE ${dims.map((d) => `px_${d} IS DISTINCT FROM py_${d}`).join(' OR ') || 'false'}),
    tie_counts AS (
      SELECT ${select(dims)} count(*) AS interactions,
        count(*) FILTER (WHERE a_department <> b_department) AS cross_department,
        count(*) FILTER (WHERE a_location <> b_location) AS cross_location,
        count(*) FILTER (WHERE NOT internal) AS external
      FROM ends ${groupBy(dims)}),
    pair_counts AS (
      SELECT ${select(dims)} count(*) AS pairs, count(*) FILTER (WHERE two_way) AS two_way
      FROM pair_ends ${groupBy(dims)})
    SELECT * FROM tie_counts FULL JOIN pair_counts USING (${cols(dims)})`);
}

async function betweenRows(pop: Population, dims: readonly Dimension[]): Promise<Row[]> {
  const ends = dims.flatMap((d) => [`a_${d}`, `b_${d}`]).join(', ');
  return pop.db.query(
    `SELECT ${ends}, count(*) AS interactions FROM s_events
    WHERE span = (SELECT span FROM s_spans WHERE span_id = ${sqlText(WINDOW_SPAN)}) GROUP BY ALL`,
  );
}

async function responsivenessRows(pop: Population, dims: readonly Dimension[]): Promise<Row[]> {
  const { timeZone } = pop.window;
  const [cover] = await pop.db.query(
    "SELECT strftime(min(span_start), '%Y-%m-%d') AS s, strftime(max(span_end), '%Y-%m-%d') AS e FROM s_spans",
  );
  const window = { ...pop.window, start: String(cover?.s), end: String(cover?.e) };
  return pop.db.query(`WITH q AS (
      SELECT p.*, t.author_employee_id AS author,
        t.first_reply_ts IS NOT NULL AND t.first_reply_user IS NOT NULL
          AND lower(t.first_reply_user) <> lower(t.author_user)
          AND t.first_reply_employee_id IS DISTINCT FROM t.author_employee_id AS by_other,
        epoch(t.first_reply_ts - t.created_ts) / 3600.0 AS hours
      FROM (SELECT *, ${localDay('created_ts', timeZone)} AS day FROM threads
        WHERE is_question AND ${inWindowSql('created_ts', window)}) t
      JOIN s_days d ON d.day = t.day AND d.in_span
      JOIN s_people p ON p.span = d.span AND p.employee_id = t.author_employee_id)
    SELECT ${select(dims)} count(*) AS questions, count(DISTINCT author) AS askers,
      count(*) FILTER (WHERE by_other) AS answered,
      count(*) FILTER (WHERE by_other AND hours <= 24) AS answered_24h,
      median(hours) FILTER (WHERE by_other) AS median_hours,
      quantile_cont(hours, 0.9) FILTER (WHERE by_other) AS p90_hours
    FROM q ${groupBy(dims)}`);
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

/**
 * DAU, WAU and MAU for a span of any length, one definition: DAU = mean distinct active employees
 * per day of the span; WAU = mean distinct active employees over the span's whole 7-day blocks
 * counted back from its last day; MAU = distinct active employees in the 28 days ending on the span's
 * last day (for a week, the 28 days ending that Sunday; for a 90-day window, its last 28 days).
 */
function participationFigures(plan: PrivacyPlan, key: GroupKey, r: Row, out: Record<string, Figure>): void {
  const eligible = num(r.eligible);
  const days = num(r.days);
  const daily = (v: number | null) => figure(v, 'daily', DAILY);
  const mau = num(r.monthly_active);
  const dau = num(r.active_days) / days;
  const wau = num(r.active_blocks) / Math.floor(days / 7);
  out.active_rate = daily(ratio(num(r.active), eligible));
  out.participation_rate = daily(ratio(num(r.participants), eligible));
  out.dau = daily(dau);
  out.wau = daily(wau);
  out.mau = daily(mau);
  out.dau_mau = daily(ratio(dau, mau));
  out.wau_mau = daily(ratio(wau, mau));

  // 90-9-1: each share is about the people in its band, so a band of fewer than the minimum is
  // withheld, and then the other two as well (the three add up to 1).
  const total = num(r.contributions);
  const top1 = num(r.top1_people);
  const next9 = num(r.top10_people) - top1;
  const bands = { top1_share: top1, next9_share: next9, rest90_share: eligible - top1 - next9 };
  // An empty band (the next 9% of 10 people or fewer) describes nobody.
  const small = (people: number) => people > 0 && people < plan.minGroupSize;
  const smallBand = Object.values(bands).some(small);
  const shares = {
    top1_share: ratio(num(r.top1_contributions), total),
    next9_share: ratio(num(r.top10_contributions) - num(r.top1_contributions), total),
    rest90_share: ratio(total - num(r.top10_contributions), total),
  };
  for (const [name, people] of Object.entries(bands))
    out[name] = smallBand
      ? withheldFigure(small(people) ? 'small' : 'complementary', 'daily', DAILY)
      : daily(shares[name as keyof typeof shares]);
  out.gini = daily(total > 0 ? num(r.gini_num) / (eligible * total) : null);

  const leaders = { ...key, leader: 'yes' };
  const others = { ...key, leader: 'no' };
  out.leader_participation_rate = guarded(
    plan,
    leaders,
    () => ratio(num(r.leaders_participating), num(r.leaders)),
    'daily',
    DAILY,
  );
  out.others_participation_rate = guarded(
    plan,
    others,
    () => ratio(num(r.others_participating), num(r.others)),
    'daily',
    DAILY,
  );
  out.others_interacted_with_leader = guarded(
    plan,
    others,
    () => ratio(num(r.others_with_leader), num(r.others)),
    'event',
    EVENTS,
  );
  for (const p of PERSONAS)
    out[`persona_${p}`] = figure(ratio(num(r[`persona_${p}`]), eligible), 'daily', `${DAILY}+${EVENTS}`);
}

function tieFigures(dims: readonly string[], r: Row | undefined, out: Record<string, Figure>): void {
  const ev = (v: number | null) => figure(v, 'event', EVENTS);
  const n = num(r?.interactions);
  const ei = (external: number) => ratio(external - (n - external), n);
  out.interactions = ev(n);
  out.cross_department_share = ev(ratio(num(r?.cross_department), n));
  out.ei_department = ev(ei(num(r?.cross_department)));
  out.cross_location_share = ev(ratio(num(r?.cross_location), n));
  out.ei_location = ev(ei(num(r?.cross_location)));
  if (dims.length) out.ei_group = ev(ei(num(r?.external)));
  out.reciprocity = ev(ratio(num(r?.two_way), num(r?.pairs)));
}

function responsivenessFigures(plan: PrivacyPlan, r: Row | undefined, out: Record<string, Figure>): void {
  const ev = (v: number | null) => figure(v, 'event', 'threads');
  const questions = num(r?.questions);
  const names = [
    'questions',
    'answered_share',
    'answered_24h_share',
    'median_hours_to_reply',
    'p90_hours_to_reply',
  ];
  // The figures describe the askers' questions: fewer askers than the minimum would describe them.
  if (questions > 0 && num(r?.askers) < plan.minGroupSize) {
    for (const name of names) out[name] = withheldFigure('small', 'event', 'threads');
    return;
  }
  out.questions = ev(questions);
  out.answered_share = ev(ratio(num(r?.answered), questions));
  out.answered_24h_share = ev(ratio(num(r?.answered_24h), questions));
  out.median_hours_to_reply = ev(r?.median_hours === null || r === undefined ? null : num(r.median_hours));
  out.p90_hours_to_reply = ev(r?.p90_hours === null || r === undefined ? null : num(r.p90_hours));
}

/** A span's rows before privacy: what spanMetrics turns into figures (and the week cache keeps). */
export interface SpanRows {
  participation: Row[];
  ties: Row[];
  responsiveness: Row[];
}

/**
 * Every span's rows for the company (dims empty) or each group of `dims`: span id -> its rows, each
 * row without the span's number (which only means something inside one prepareSpans).
 */
export async function spanRows(pop: Population, dims: readonly Dimension[]): Promise<Map<string, SpanRows>> {
  const ids = new Map(
    (await pop.db.query('SELECT span, span_id FROM s_spans')).map((r) => [r.span, r.span_id]),
  );
  const out = new Map<string, SpanRows>();
  const of = (span: string) => {
    let rows = out.get(span);
    if (!rows) {
      rows = { participation: [], ties: [], responsiveness: [] };
      out.set(span, rows);
    }
    return rows;
  };
  // One connection runs one query at a time: in sequence, as cheap as in Promise.all.
  const parts = {
    participation: await participationRows(pop, dims),
    ties: await tieRows(pop, dims),
    responsiveness: await responsivenessRows(pop, dims),
  };
  for (const [part, rows] of Object.entries(parts) as [keyof SpanRows, Row[]][])
    for (const { span, ...r } of rows) of(String(ids.get(span)))[part].push(r);
  return out;
}

/**
 * Every figure of every span for the company (dims empty) or each group of `dims`, withheld where the
 * span's privacy plan says: span id -> its groups, sorted by their values.
 */
export function spanMetrics(
  rows: ReadonlyMap<string, SpanRows>,
  dims: readonly Dimension[],
  planOf: (span: string) => PrivacyPlan,
): Map<string, GroupMetrics[]> {
  const out = new Map<string, GroupMetrics[]>();
  for (const [span, { participation, ties, responsiveness }] of rows) {
    const id = (r: Row) => keyId(keyOf(r, dims));
    const tieMap = new Map(ties.map((r) => [id(r), r]));
    const respMap = new Map(responsiveness.map((r) => [id(r), r]));
    const plan = planOf(span);
    const groups: GroupMetrics[] = [];
    for (const r of participation) {
      const key = keyOf(r, dims);
      const reason = plan.reason(key);
      if (reason) {
        groups.push({ key, withheld: reason });
        continue;
      }
      const figures: Record<string, Figure> = {};
      participationFigures(plan, key, r, figures);
      tieFigures(dims, tieMap.get(id(r)), figures);
      responsivenessFigures(plan, respMap.get(id(r)), figures);
      groups.push({ key, withheld: null, eligible: num(r.eligible), figures });
    }
    if (groups.length)
      out.set(
        span,
        groups.sort((a, b) => keyId(a.key).localeCompare(keyId(b.key))),
      );
  }
  return out;
}

/** Interactions between each two groups of `dims` (silos), published only when both groups are. */
export async function tiesBetween(pop: Population, dims: readonly Dimension[]): Promise<TieBetween[]> {
  if (dims.length === 0) return [];
  // Both directions of a pair of groups are one entry: add (a, b) and (b, a) up.
  const pairs = new Map<string, { a: GroupKey; b: GroupKey; n: number }>();
  for (const r of await betweenRows(pop, dims)) {
    const end = (x: 'a' | 'b'): GroupKey => Object.fromEntries(dims.map((d) => [d, String(r[`${x}_${d}`])]));
    const ends = [end('a'), end('b')];
    const [a, b] = ends.sort((x, y) => keyId(x).localeCompare(keyId(y))) as [GroupKey, GroupKey];
    const id = `${keyId(a)}|${keyId(b)}`;
    const entry = pairs.get(id) ?? { a, b, n: 0 };
    entry.n += Number(r.interactions);
    pairs.set(id, entry);
  }
  return [...pairs.values()]
    .sort((x, y) => `${keyId(x.a)}|${keyId(x.b)}`.localeCompare(`${keyId(y.a)}|${keyId(y.b)}`))
    .map(({ a, b, n }) => {
      const reason = pop.plan.reason(a) ?? pop.plan.reason(b);
      return {
        a,
        b,
        interactions: reason ? withheldFigure(reason, 'event', EVENTS) : figure(n, 'event', EVENTS),
      };
    });
}
