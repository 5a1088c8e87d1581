/** The JSON API as the pages use it: the session's CSRF token on every state-changing request. */

export type Role = 'comms' | 'leadership' | 'analyst' | 'admin';

export interface Session {
  user: { name: string; role: Role } | null;
  csrf: string;
  demo: boolean;
}

/** An answer other than 2xx: `message` is the server's own {error} text. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let csrf = '';

async function answer<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => null)) as { error?: string } | null;
  if (!res.ok) throw new ApiError(body?.error ?? `${res.status} ${res.statusText}`, res.status);
  return body as T;
}

export async function session(): Promise<Session> {
  const s = await answer<Session>(await fetch('/api/session', { credentials: 'same-origin' }));
  csrf = s.csrf;
  return s;
}

/** Takes the CSRF token a sign-in or role switch answered with. */
export function useCsrf(token: string): void {
  csrf = token;
}

/** GET `path` with `params` (empty values left out). */
export async function get<T>(path: string, params: Record<string, string | number | null | undefined> = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== null && v !== undefined && v !== '') query.set(k, String(v));
  const qs = query.toString();
  return answer<T>(await fetch(qs ? `${path}?${qs}` : path, { credentials: 'same-origin' }));
}

/** The raw response of a state-changing request (downloads read it as a blob). */
export async function sendRaw(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) await answer(res);
  return res;
}

export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  return answer<T>(await sendRaw(method, path, body));
}

/** The views each role may open (admin: all), in nav order, and the first is the role's home. */
export const VIEWS: Record<Role, string[]> = {
  comms: ['comms'],
  leadership: ['leadership'],
  analyst: ['analyst', 'leadership'],
  admin: ['ops', 'comms', 'leadership', 'analyst'],
};

/** Signs in as `role` in a demo database and opens that role's home view. */
export async function switchDemoRole(role: Role): Promise<void> {
  const answer = await send<{ csrf: string }>('POST', '/api/demo/role', { role });
  useCsrf(answer.csrf);
  location.assign(`/${VIEWS[role][0]}`);
}
