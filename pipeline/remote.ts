import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { UserError } from './errors.js';

/** What a running server tells CLI processes: where it listens and the token they must present. */
export interface ServerInfo {
  pid: number;
  url: string;
  token: string;
}

/** Beside the database file, readable by its owner only (mode 0600). */
export function serverInfoPath(databasePath: string): string {
  return `${databasePath}.server.json`;
}

export function writeServerInfo(databasePath: string, url: string): ServerInfo {
  const info: ServerInfo = { pid: process.pid, url, token: randomBytes(32).toString('base64url') };
  writeFileSync(serverInfoPath(databasePath), JSON.stringify(info), { mode: 0o600 });
  return info;
}

export function removeServerInfo(databasePath: string): void {
  const current = readServerInfo(databasePath);
  if (current?.pid === process.pid) rmSync(serverInfoPath(databasePath), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readServerInfo(databasePath: string): ServerInfo | null {
  try {
    const info = JSON.parse(readFileSync(serverInfoPath(databasePath), 'utf8')) as ServerInfo;
    return typeof info.pid === 'number' && typeof info.url === 'string' && typeof info.token === 'string'
      ? info
      : null;
  } catch {
    return null;
  }
}

/** The server that owns this database right now, or null (no file, or its process is gone). */
export function findServer(databasePath: string): ServerInfo | null {
  if (databasePath === ':memory:') return null;
  const info = readServerInfo(databasePath);
  return info && alive(info.pid) ? info : null;
}

/**
 * Runs a verb on the server that owns the database. Progress lines go to `onProgress`; the result
 * line is returned; an error line becomes a UserError with the server's status and message.
 * Returns undefined when the server cannot be reached (it just stopped): the caller opens the file.
 */
export async function callServer(
  info: ServerInfo,
  verb: string,
  args: unknown,
  onProgress?: (event: unknown) => void,
): Promise<{ value: unknown } | undefined> {
  let res: Response;
  try {
    res = await fetch(`${info.url}/api/verbs/${verb}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(args ?? {}),
    });
  } catch {
    return undefined;
  }
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new UserError(body.error ?? `the server answered HTTP ${res.status}`, res.status);
  }
  let buffer = '';
  const decoder = new TextDecoder();
  let outcome: { value: unknown } | undefined;
  const handle = (line: string) => {
    if (!line.trim()) return;
    const msg = JSON.parse(line) as {
      type: string;
      event?: unknown;
      value?: unknown;
      status?: number;
      message?: string;
    };
    if (msg.type === 'progress') onProgress?.(msg.event);
    else if (msg.type === 'result') outcome = { value: msg.value };
    else if (msg.type === 'error')
      throw new UserError(msg.message ?? 'the server reported an error', msg.status ?? 500);
  };
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      handle(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  }
  handle(buffer);
  if (!outcome) throw new UserError('the server closed the connection before answering (did it stop?)', 502);
  return outcome;
}

/**
 * Sends one export file to the server that owns the database as a raw body to POST /api/import,
 * streamed from disk (the server streams it to a temp file in turn): no base64 copy on either side.
 * Returns undefined when the server cannot be reached (it just stopped): the caller opens the file.
 */
export async function uploadImport(
  info: ServerInfo,
  kind: string,
  path: string,
): Promise<{ value: unknown } | undefined> {
  const query = new URLSearchParams({ kind, name: basename(path) });
  let res: Response;
  try {
    res = await fetch(`${info.url}/api/import?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
  } catch {
    return undefined;
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new UserError(body.error ?? `the server answered HTTP ${res.status}`, res.status);
  return { value: body };
}
