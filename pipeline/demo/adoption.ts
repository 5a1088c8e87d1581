import type { ImportFile } from '../../collectors/imports/csv.js';
import { DEMO_DAYS } from './mentions.js';

const DAY = 86_400_000;

type Rng = () => number;

/** Departments with their size, where they sit, and how much they take to the network. */
const DEPARTMENTS: readonly {
  name: string;
  sites: readonly (readonly [location: string, people: number])[];
  /** Chance of reading on a given day, and of contributing when reading, for an ordinary employee. */
  reads: number;
  contributes: number;
  /** Share of their interactions that stay inside the department (a silo is near 1). */
  inward: number;
}[] = [
  {
    name: 'Engineering',
    sites: [
      ['Pangyo R&D', 62],
      ['Seoul HQ', 10],
    ],
    reads: 0.62,
    contributes: 0.38,
    inward: 0.62,
  },
  { name: 'Product & Design', sites: [['Seoul HQ', 30]], reads: 0.66, contributes: 0.42, inward: 0.45 },
  {
    name: 'Sales',
    sites: [
      ['Seoul HQ', 32],
      ['Busan', 16],
    ],
    reads: 0.45,
    contributes: 0.3,
    inward: 0.6,
  },
  { name: 'Marketing', sites: [['Seoul HQ', 26]], reads: 0.6, contributes: 0.45, inward: 0.5 },
  {
    name: 'Customer Service',
    sites: [
      ['Busan', 28],
      ['Seoul HQ', 12],
    ],
    reads: 0.55,
    contributes: 0.35,
    inward: 0.7,
  },
  { name: 'Manufacturing', sites: [['Busan Plant', 58]], reads: 0.22, contributes: 0.14, inward: 0.9 },
  { name: 'Finance', sites: [['Seoul HQ', 14]], reads: 0.4, contributes: 0.18, inward: 0.75 },
  { name: 'People', sites: [['Seoul HQ', 12]], reads: 0.58, contributes: 0.4, inward: 0.4 },
];

interface Employee {
  id: string;
  dept: number;
  location: string;
  level: string;
  manager: boolean;
  executive: boolean;
  managerId: string;
  hire: number;
  term: number | null;
  reads: number;
  contributes: number;
  /** Chance of using chat and meetings on a working day. */
  chat: number;
}

const dayString = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A company of about 300 people: teams of six to nine under a manager, a director per department. */
function company(rnd: Rng, first: number, last: number): Employee[] {
  const people: Employee[] = [];
  let n = 1000;
  const nextId = () => `E${++n}`;
  const ceo = nextId();
  people.push(person(ceo, 0, 'Seoul HQ', 'Executive', ceo, first));
  DEPARTMENTS.forEach((d, dept) => {
    const director = nextId();
    const executive = dept % 3 === 0;
    people.push(
      person(director, dept, d.sites[0]?.[0] ?? 'Seoul HQ', executive ? 'Executive' : 'Director', ceo, first),
    );
    for (const [location, size] of d.sites) {
      let left = size - 1;
      while (left > 0) {
        const team = Math.min(left, 6 + Math.floor(rnd() * 4));
        const manager = nextId();
        people.push(person(manager, dept, location, 'Manager', director, first));
        for (let i = 1; i < team; i++) {
          const id = nextId();
          const level = rnd() < 0.35 ? 'Senior' : 'Staff';
          people.push(person(id, dept, location, level, manager, first));
        }
        left -= team;
      }
    }
  });
  return people;

  function person(
    id: string,
    dept: number,
    location: string,
    level: string,
    managerId: string,
    start: number,
  ): Employee {
    const d = DEPARTMENTS[dept] as (typeof DEPARTMENTS)[number];
    const leader = level === 'Manager' || level === 'Director' || level === 'Executive';
    const r = rnd();
    // 3% joined during the quarter, 2% left; everyone else was there long before.
    const hire =
      r < 0.03 ? start + Math.floor(rnd() * (last - start)) : start - (200 + Math.floor(rnd() * 3000)) * DAY;
    const term = r > 0.98 ? start + Math.floor(rnd() * (last - start)) : null;
    const spread = 0.4 + rnd() * 1.2;
    // Deskless plant workers (most of the plant) have neither the network nor chat; a few
    // others never open the network.
    const deskless = d.name === 'Manufacturing' && !leader && rnd() < 0.65;
    const networkUser = !deskless && rnd() > 0.04;
    return {
      id,
      dept,
      location,
      level,
      manager: leader,
      executive: level === 'Executive',
      managerId,
      hire: Math.floor(hire / DAY) * DAY,
      term: term === null ? null : Math.floor(term / DAY) * DAY,
      // Leaders read and write more: the "leading by example" the report measures.
      reads: networkUser ? Math.min(0.95, d.reads * spread * (leader ? 1.3 : 1)) : 0,
      // Many only read (lurkers); leaders less often.
      contributes:
        rnd() < (leader ? 0.25 : 0.45) ? 0 : Math.min(0.9, d.contributes * spread * (leader ? 1.5 : 1)),
      chat: deskless ? 0 : d.name === 'Manufacturing' && !leader ? 0.15 : 0.75,
    };
  }
}

const csv = (rows: readonly (readonly unknown[])[]) =>
  Buffer.from(`${rows.map((r) => r.map((v) => (v === null ? '' : String(v))).join(',')).join('\n')}\n`);

/**
 * The adoption data set as the canonical CSV files `earshot import` reads: the directory, daily
 * activity on the network and chat, who interacted with whom, question threads with their first
 * reply, and weekly email and meeting volume from six weeks before the rollout. Deterministic for
 * the random source; the last activity day is the day before `now`.
 */
export function adoptionFiles(rnd: Rng, now: Date): ImportFile[] {
  const last = Math.floor(now.getTime() / DAY) * DAY - DAY;
  const first = last - (DEMO_DAYS - 1) * DAY;
  const people = company(rnd, first, last);
  const employed = (p: Employee, day: number) => p.hire <= day && (p.term === null || p.term > day);

  const directory: unknown[][] = [
    [
      'employee_id',
      'email',
      'department',
      'location',
      'level',
      'is_manager',
      'is_executive',
      'manager_id',
      'hire_date',
      'term_date',
      'as_of',
    ],
  ];
  for (const p of people)
    directory.push([
      p.id,
      `${p.id.toLowerCase()}@velnora.example`,
      DEPARTMENTS[p.dept]?.name,
      p.location,
      p.level,
      p.manager,
      p.executive,
      p.managerId === p.id ? null : p.managerId,
      dayString(p.hire),
      p.term === null ? null : dayString(p.term),
      dayString(first),
    ]);

  const activity: unknown[][] = [
    [
      'activity_date',
      'platform',
      'employee_id',
      'posts',
      'replies',
      'reactions',
      'reads',
      'chat_messages',
      'channel_messages',
      'meetings_attended',
    ],
  ];
  const interactions: unknown[][] = [
    ['event_ts', 'platform', 'from_employee_id', 'to_employee_id', 'interaction_type', 'thread_id'],
  ];
  const threads: unknown[][] = [
    [
      'platform',
      'thread_id',
      'group_name',
      'author_id',
      'created_ts',
      'is_question',
      'first_reply_ts',
      'first_reply_by',
    ],
  ];
  const byDept = DEPARTMENTS.map((_, i) => people.filter((p) => p.dept === i));
  let threadNo = 0;
  for (let day = first; day <= last; day += DAY) {
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    // Adoption grows over the quarter after the rollout.
    const ramp = 0.55 + (0.45 * (day - first)) / (last - first);
    const present = people.filter((p) => employed(p, day));
    for (const p of present) {
      if (rnd() < p.chat) {
        const meetings = Math.floor(rnd() * 4);
        activity.push([dayString(day), 'teams', p.id, 0, 0, 0, 0, 5 + Math.floor(rnd() * 40), 0, meetings]);
      }
      if (rnd() >= p.reads * ramp) continue;
      const writes = rnd() < p.contributes * ramp;
      const posts = writes && rnd() < 0.3 ? 1 : 0;
      const replies = writes && rnd() < 0.6 ? 1 + Math.floor(rnd() * 3) : 0;
      const reactions = writes ? Math.floor(rnd() * 5) : 0;
      activity.push([
        dayString(day),
        'viva_engage',
        p.id,
        posts,
        replies,
        reactions,
        2 + Math.floor(rnd() * 25),
        0,
        0,
        0,
      ]);
      const given = replies + reactions;
      for (let k = 0; k < given; k++) {
        const d = DEPARTMENTS[p.dept] as (typeof DEPARTMENTS)[number];
        const pool = rnd() < d.inward ? (byDept[p.dept] as Employee[]) : present;
        // Interactions lean towards the manager's own team and towards leaders' posts.
        const to =
          rnd() < 0.2
            ? people.find((q) => q.id === p.managerId)
            : (pool[Math.floor(rnd() * pool.length)] as Employee);
        if (!to || to.id === p.id || !employed(to, day)) continue;
        const at = new Date(day + (1 + Math.floor(rnd() * 9)) * 3_600_000 + Math.floor(rnd() * 3_600_000));
        interactions.push([
          at.toISOString(),
          'viva_engage',
          p.id,
          to.id,
          k < replies ? 'reply' : 'reaction',
          null,
        ]);
      }
      if (posts > 0 && rnd() < 0.35) {
        // A question: answered by someone else, usually within hours, sometimes days, sometimes never.
        const created = day + (1 + Math.floor(rnd() * 8)) * 3_600_000;
        const answered = rnd() < (DEPARTMENTS[p.dept]?.name === 'Customer Service' ? 0.92 : 0.78);
        const answerer = byDept[p.dept]?.[Math.floor(rnd() * (byDept[p.dept]?.length ?? 1))];
        const wait =
          Math.exp(0.8 + 1.4 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())) *
          3_600_000;
        const ok = answered && answerer && answerer.id !== p.id && created + wait < last + DAY;
        threads.push([
          'viva_engage',
          `T${++threadNo}`,
          `${DEPARTMENTS[p.dept]?.name} Q&A`,
          p.id,
          new Date(created).toISOString(),
          true,
          ok ? new Date(created + wait).toISOString() : null,
          ok ? answerer.id : null,
        ]);
      }
    }
  }

  const volume: unknown[][] = [
    ['week_start', 'employee_id', 'emails_sent', 'emails_received', 'meetings_attended', 'meeting_hours'],
  ];
  // Mondays from six weeks before the rollout to the last full week.
  const firstMonday = first - ((new Date(first).getUTCDay() + 6) % 7) * DAY - 6 * 7 * DAY;
  for (let week = firstMonday; week + 7 * DAY <= last + DAY; week += 7 * DAY) {
    for (const p of people) {
      if (!employed(p, week)) continue;
      // Adopters (who contribute) send fewer emails and sit in fewer meetings after the rollout.
      const after = week >= first && p.contributes > 0.2 ? 0.86 : 1;
      volume.push([
        dayString(week),
        p.id,
        Math.round((35 + rnd() * 30) * after),
        Math.round(110 + rnd() * 70),
        Math.round((9 + rnd() * 7) * (after === 1 ? 1 : 0.93)),
        ((6 + rnd() * 8) * (after === 1 ? 1 : 0.93)).toFixed(1),
      ]);
    }
  }

  return [
    { name: 'demo-employees.csv', content: csv(directory) },
    { name: 'demo-activity-daily.csv', content: csv(activity) },
    { name: 'demo-interactions.csv', content: csv(interactions) },
    { name: 'demo-threads.csv', content: csv(threads) },
    { name: 'demo-comm-volume.csv', content: csv(volume) },
  ];
}
