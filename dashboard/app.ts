import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { reportSection, SECTIONS, type Section } from '../pipeline/adoption/render.js';
import { adoptionReport } from '../pipeline/adoption/report.js';
import { UserError } from '../pipeline/errors.js';
import type { Logger } from '../pipeline/logger.js';
import { mentionCharts, parseMetricQuery } from '../pipeline/metrics/mentions.js';
import { redact } from '../pipeline/secrets.js';
import { importVerb, remoteVerbs, type Services, status, type VerbName } from '../pipeline/verbs.js';
import { alertRoutes } from './alerts.js';
import { correctionRoutes } from './corrections.js';
import { pageRoutes } from './pages.js';

export interface AppDeps {
  services: Services;
  /** The local token the server wrote beside the database (known once it listens); CLI calls present it. */
  getLocalToken: () => string;
  logger: Logger;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function requireLocalToken(getToken: () => string) {
  return function localTokenAuth(req: Request, _res: Response, next: NextFunction): void {
    const header = req.get('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const token = getToken();
    if (!given || !token || !sameToken(given, token)) {
      next(new UserError('missing or wrong local token', 401));
      return;
    }
    next();
  };
}

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
  next();
}

/** The HTTP app: pages and the JSON API. Never listens; the caller (serve, tests) decides where. */
export function createApp(deps: AppDeps): express.Express {
  const { services, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // Imports carry whole export files (base64) in the body; every other route keeps the small limit.
  const smallJson = express.json({ limit: '1mb' });
  const importJson = express.json({ limit: '512mb' });
  const importRaw = express.raw({ limit: '512mb', type: () => true });
  app.use((req, res, next) =>
    (req.path === '/api/verbs/import' || (req.path === '/api/import' && req.is('application/json'))
      ? importJson
      : req.path === '/api/import'
        ? importRaw
        : smallJson)(req, res, next),
  );

  app.get('/api/health', (_req, res) => {
    res.json({ ok: true, configured: services.config.sources.length > 0 });
  });

  app.get('/api/status', requireLocalToken(deps.getLocalToken), async (_req, res) => {
    res.json({ sources: await status(services) });
  });

  // Local token for now, like /api/status; sign-in replaces it in a later issue.
  app.use(alertRoutes(services, requireLocalToken(deps.getLocalToken)));
  // Mention charts, read from the rollups; local token until sign-in exists.
  app.get('/api/mentions/:chart', requireLocalToken(deps.getLocalToken), async (req, res) => {
    const chart = req.params.chart as keyof typeof mentionCharts;
    if (!Object.hasOwn(mentionCharts, chart)) throw new UserError(`unknown chart ${req.params.chart}`, 404);
    const query = parseMetricQuery(req.query as Record<string, unknown>, services.now());
    res.json(await mentionCharts[chart](services.store, services.config.timezone, query));
  });

  // Leadership aggregates (DESIGN.md section 6); guarded by the local token until sign-in exists.
  app.get('/api/adoption/:section', requireLocalToken(deps.getLocalToken), async (req, res) => {
    const section = req.params.section as Section;
    if (!SECTIONS.includes(section))
      throw new UserError(
        `unknown adoption section ${req.params.section}; one of ${SECTIONS.join(', ')}`,
        404,
      );
    const q = (name: string) =>
      typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined;
    const window = q('window');
    const days = window === undefined ? undefined : Number(/^(\d+)d?$/.exec(window)?.[1] ?? Number.NaN);
    if (days !== undefined && Number.isNaN(days))
      throw new UserError(`window: "${window}" is not a number of days; use e.g. 28d`, 400);
    // Leadership only until roles exist: the analyst report withholds nothing.
    const audience = q('audience');
    if (audience !== undefined && audience !== 'leadership')
      throw new UserError(
        audience === 'analyst'
          ? 'audience=analyst is not served over the API until sign-in and roles exist; analysts run `earshot report adoption --audience analyst` on the database'
          : `audience: "${audience}" is not one of leadership, analyst`,
        audience === 'analyst' ? 403 : 400,
      );
    const report = await adoptionReport(
      services.store,
      { timezone: services.config.timezone, minGroupSize: services.config.minGroupSize },
      {
        days,
        by: q('by')?.split(',').filter(Boolean),
        asOf: q('asOf'),
        rollout: q('rollout'),
        audience: 'leadership',
      },
    );
    res.json(reportSection(report, section, q('lang') === 'ko' ? 'ko' : 'en'));
  });
  // Sentiment corrections; local token until sign-in exists.
  app.use(correctionRoutes(services, requireLocalToken(deps.getLocalToken)));

  // Adoption exports into the running server (DESIGN.md section 6): one transaction for all files.
  // JSON {kind, files: [{name, content (base64)}]} for a set of files, or one file as the raw body
  // (`curl --data-binary @users.csv '/api/import?kind=auto&name=users.csv'`).
  app.post('/api/import', requireLocalToken(deps.getLocalToken), async (req, res) => {
    const query = (name: string) =>
      typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined;
    const body = Buffer.isBuffer(req.body)
      ? {
          kind: query('kind') ?? 'auto',
          files: [{ name: query('name') ?? 'upload', content: req.body.toString('base64') }],
        }
      : req.body;
    const args = remoteVerbs.import.args.safeParse(body ?? {});
    if (!args.success) throw new UserError(`bad import: ${args.error.issues[0]?.message}`, 400);
    res.json(await importVerb(services, args.data));
  });

  // Every CLI verb that touches the database comes here while the server owns the file. The answer
  // is NDJSON: progress events, then one result or error line.
  app.post('/api/verbs/:name', requireLocalToken(deps.getLocalToken), async (req, res) => {
    const name = req.params.name as VerbName;
    const verb = remoteVerbs[name];
    if (!Object.hasOwn(remoteVerbs, name) || !verb)
      throw new UserError(`unknown verb ${req.params.name}`, 404);
    const args = verb.args.safeParse(req.body ?? {});
    if (!args.success)
      throw new UserError(`bad arguments for ${name}: ${args.error.issues[0]?.message}`, 400);
    res.status(200).type('application/x-ndjson');
    const send = (line: unknown) => res.write(`${JSON.stringify(line)}\n`);
    try {
      // biome-ignore lint/suspicious/noExplicitAny: each verb's args were validated by its own schema above.
      const value = await (verb.run as any)(services, args.data, (event: unknown) =>
        send({ type: 'progress', event }),
      );
      send({ type: 'result', value });
    } catch (err) {
      const status = err instanceof UserError ? err.status : 500;
      if (!(err instanceof UserError)) logger.error({ err }, `verb ${name} failed`);
      send({ type: 'error', status, message: redact(err instanceof Error ? err.message : String(err)) });
    }
    res.end();
  });

  app.use(pageRoutes());

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new UserError('not found', 404)));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = err instanceof UserError ? err.status : 500;
    if (status >= 500) logger.error({ err }, 'request failed');
    res.status(status).json({
      error: status >= 500 && !(err instanceof UserError) ? 'internal error' : redact((err as Error).message),
    });
  });
  return app;
}
