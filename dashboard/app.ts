import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { reportSection, SECTIONS, type Section } from '../pipeline/adoption/render.js';
import { adoptionReport } from '../pipeline/adoption/report.js';
import { UserError } from '../pipeline/errors.js';
import type { Logger } from '../pipeline/logger.js';
import { mentionCharts, parseMetricQuery } from '../pipeline/metrics/mentions.js';
import { redact } from '../pipeline/secrets.js';
import { importVerb, remoteVerbs, type Services, status, type VerbName } from '../pipeline/verbs.js';
import { alertRoutes } from './alerts.js';
import { analystRoutes } from './analyst.js';
import { auditRoutes } from './audit.js';
import { allow, createAuth, requireLocalToken } from './auth.js';
import { correctionRoutes } from './corrections.js';
import { eventRoutes } from './events.js';
import { opsRoutes } from './ops.js';
import { pageRoutes } from './pages.js';
import { currentUser } from './roles.js';
import { saveUpload, uploadFolder } from './upload.js';

export interface AppDeps {
  services: Services;
  /** The local token the server wrote beside the database (known once it listens); CLI calls present it. */
  getLocalToken: () => string;
  logger: Logger;
}

/** Strict CSP: no inline script or style, nothing from another origin (DESIGN.md section 7). */
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
    },
  },
  frameguard: { action: 'deny' },
});

/** The HTTP app: pages and the JSON API. Never listens; the caller (serve, tests) decides where. */
export function createApp(deps: AppDeps): express.Express {
  const { services, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // API answers carry mention texts and people's data: no browser or proxy may keep them. Nothing
  // then revalidates, so no ETag is computed either (Express hashes every answer for one).
  app.set('etag', false);
  app.use('/api', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  const auth = createAuth(services, deps.getLocalToken);
  app.use(auth.session);
  // Imports carry whole export files (base64) in the body; every other route, and anyone not signed
  // in, keeps the small limit. A raw import body is not parsed here: the route streams it to a file.
  const smallJson = express.json({ limit: '1mb' });
  const importJson = express.json({ limit: '512mb' });
  const importRaw = (_req: Request, _res: Response, next: NextFunction) => next();
  app.use((req, res, next) =>
    (!res.locals.user
      ? smallJson
      : req.path === '/api/verbs/import' || (req.path === '/api/import' && req.is('application/json'))
        ? importJson
        : req.path === '/api/import'
          ? importRaw
          : smallJson)(req, res, next),
  );
  app.use(auth.routes);

  app.get('/api/health', (_req, res) => {
    res.json({ ok: true, configured: services.config.sources.length > 0 });
  });

  app.get('/api/status', allow('admin'), async (_req, res) => {
    res.json({ sources: await status(services) });
  });

  app.use(alertRoutes(services, allow('comms')));
  app.use(auditRoutes(services, allow));
  // Mention charts, read from the rollups.
  app.get('/api/mentions/:chart', allow('comms', 'analyst'), async (req, res) => {
    const chart = req.params.chart as keyof typeof mentionCharts;
    if (!Object.hasOwn(mentionCharts, chart)) throw new UserError(`unknown chart ${req.params.chart}`, 404);
    const query = parseMetricQuery(req.query as Record<string, unknown>, services.now());
    res.json(await mentionCharts[chart](services.store, services.config.timezone, query));
  });

  // The report is a function of the data and its arguments: a page asks for each of its sections,
  // so it is computed once per data version (any committed write) and set of arguments.
  const reports = new Map<string, ReturnType<typeof adoptionReport>>();
  const cachedReport = (args: Parameters<typeof adoptionReport>[2]) => {
    const key = JSON.stringify([services.store.version, args]);
    let report = reports.get(key);
    if (!report) {
      if (reports.size >= 64) reports.clear();
      report = adoptionReport(
        services.store,
        { timezone: services.config.timezone, minGroupSize: services.config.minGroupSize },
        args,
      );
      reports.set(key, report);
      report.catch(() => reports.delete(key));
    }
    return report;
  };

  // Leadership aggregates (DESIGN.md section 6).
  app.get('/api/adoption/:section', allow('leadership', 'analyst'), async (req, res) => {
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
    // The analyst report withholds nothing (per-person data): analysts and admins only, on request.
    const audience = (q('audience') ?? 'leadership') as 'leadership' | 'analyst';
    if (audience !== 'leadership' && audience !== 'analyst')
      throw new UserError(`audience: "${audience}" is not one of leadership, analyst`, 400);
    const role = currentUser(res).role;
    if (audience === 'analyst' && role !== 'analyst' && role !== 'admin')
      throw new UserError(`audience: the ${role} role is served the leadership audience only`, 403);
    const args = {
      days,
      by: q('by')?.split(',').filter(Boolean),
      asOf: q('asOf'),
      rollout: q('rollout'),
      audience,
    };
    res.json(reportSection(await cachedReport(args), section, q('lang') === 'ko' ? 'ko' : 'en'));
  });
  app.use(correctionRoutes(services, allow('comms')));

  app.use(opsRoutes(services, allow));
  app.use(analystRoutes(services, allow));
  app.use(eventRoutes(services, allow));

  // Adoption exports into the running server (DESIGN.md section 6): one transaction for all files.
  // JSON {kind, files: [{name, content (base64)}]} for a set of files, or one file as the raw body
  // (`curl --data-binary @users.csv '/api/import?kind=auto&name=users.csv'`).
  app.post('/api/import', allow('admin', 'analyst'), async (req, res) => {
    const query = (name: string) =>
      typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined;
    if (!req.is('application/json')) {
      // One raw file: streamed to a private temp file and imported from there, never held whole.
      const upload = await saveUpload(req, uploadFolder(services.config.databasePath));
      const file = { name: query('name') ?? 'upload', path: upload.path };
      let outcome: Awaited<ReturnType<typeof importVerb>>;
      try {
        outcome = await importVerb(services, { kind: query('kind') ?? 'auto', files: [file] });
      } finally {
        await upload.remove();
      }
      res.json(outcome);
      return;
    }
    const args = remoteVerbs.import.args.safeParse(req.body ?? {});
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
    // The body parser's refusals (malformed JSON, too large, an unknown charset or encoding) are the
    // client's mistake, marked `expose` with their own 4xx: answered as such, not as our 500.
    const parser = err as { expose?: unknown; status?: unknown };
    const status =
      err instanceof UserError
        ? err.status
        : parser.expose === true && typeof parser.status === 'number' && parser.status < 500
          ? parser.status
          : 500;
    if (status >= 500) logger.error({ err }, 'request failed');
    res.status(status).json({
      error: status >= 500 && !(err instanceof UserError) ? 'internal error' : redact((err as Error).message),
    });
  });
  return app;
}
