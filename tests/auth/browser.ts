import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: unknown;
  text: string;
}

/**
 * A minimal browser over real HTTP: keeps the cookies the server sets and sends them back, remembers
 * the CSRF token of the last session answer, and can connect from another loopback address
 * (127.0.0.2) to act as a second client.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  /** Every Set-Cookie header received, in order. */
  readonly setCookies: string[] = [];
  csrf = '';

  constructor(
    readonly base: string,
    readonly localAddress = '127.0.0.1',
  ) {}

  send(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; csrf?: string | null } = {},
  ): Promise<Answer> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    const headers: Record<string, string> = {
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...(this.cookies.size > 0 ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      ...(csrf ? { 'x-csrf-token': csrf } : {}),
      ...options.headers,
    };
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.base),
        { method, headers, localAddress: this.localAddress },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            for (const line of res.headers['set-cookie'] ?? []) {
              this.setCookies.push(line);
              const [pair = '', ...attrs] = line.split(';');
              const eq = pair.indexOf('=');
              const name = pair.slice(0, eq).trim();
              const value = pair.slice(eq + 1).trim();
              const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
              if (expired || value === '') this.cookies.delete(name);
              else this.cookies.set(name, value);
            }
            const text = Buffer.concat(chunks).toString('utf8');
            const json = /json/.test(String(res.headers['content-type']));
            const body = json && text ? JSON.parse(text) : text;
            const csrfGiven = (body as { csrf?: unknown } | null)?.csrf;
            if (typeof csrfGiven === 'string') this.csrf = csrfGiven;
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path: string, headers?: Record<string, string>): Promise<Answer> {
    return this.send('GET', path, headers ? { headers } : {});
  }

  /** GET /api/session (sets the pre-session CSRF cookie), then POST /api/session. */
  async signIn(name: string, password: string): Promise<Answer> {
    await this.get('/api/session');
    return this.send('POST', '/api/session', { body: { name, password } });
  }
}
