import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Destroys the socket after sending this many bytes of the body (a truncated response). */
  cutAfter?: number;
}

export interface Request {
  method: string;
  /** Path and query, as received. */
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: Request) => Reply | Promise<Reply>;

export interface Loopback {
  /** http://127.0.0.1:PORT */
  url: string;
  requests: Request[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 answering with `handler`; every request is recorded. */
export async function startLoopback(handler: Handler): Promise<Loopback> {
  const requests: Request[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const request: Request = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      try {
        const reply = await handler(request);
        const body =
          typeof reply.body === 'string' ? Buffer.from(reply.body) : (reply.body ?? Buffer.alloc(0));
        res.writeHead(reply.status ?? 200, { 'content-length': String(body.length), ...reply.headers });
        if (reply.cutAfter !== undefined) {
          res.write(body.subarray(0, reply.cutAfter));
          res.socket?.destroy();
          return;
        }
        res.end(body);
      } catch (err) {
        res.writeHead(599, { 'content-type': 'text/plain' });
        res.end(`test handler failed: ${(err as Error).message}`);
      }
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json = (value: unknown, headers: Record<string, string> = {}): Reply => ({
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(value),
});
