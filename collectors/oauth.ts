import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import { issuedToken, redact, Secret } from '../pipeline/secrets.js';
import type { CollectorContext } from './contract.js';
import { type HttpResponse, parseJson, type RetryPolicy, request } from './http.js';

/** An access token and when to stop using it (ms since the epoch). */
export interface BearerToken {
  value: Secret;
  expiresAt: number;
}

const tokenSchema = z.object({
  access_token: issuedToken,
  expires_in: z.coerce.number().positive().optional(),
});

/**
 * OAuth 2 client-credentials grant (Microsoft identity platform, Salesforce): one form POST, the
 * answer's token as a Secret. A refusal names the endpoint's own error (invalid_client, ...).
 */
export async function clientCredentialsToken(
  ctx: CollectorContext,
  url: string,
  form: Record<string, string>,
  who: string,
  policy?: RetryPolicy,
): Promise<BearerToken> {
  const res = await request(ctx, url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
    accept: [400, 401, 403],
    ...(policy ? { policy } : {}),
  });
  const json = parseJson(res);
  const token = json.ok ? tokenSchema.safeParse(json.value) : null;
  if (res.status !== 200 || !token?.success) {
    const answer = json.ok ? (json.value as Record<string, unknown> | null) : null;
    const detail = answer?.error
      ? `${String(answer.error)}: ${String(answer.error_description ?? '').slice(0, 300)}`
      : res.body.toString('utf8', 0, Math.min(res.body.length, 300));
    throw new SourceError(
      `${who} refused the client credentials (HTTP ${res.status} from the token endpoint): ${redact(detail)}`,
      res.status,
      url,
    );
  }
  const expiresIn = token.data.expires_in ?? 3600;
  return {
    value: new Secret(`${who} access token`, token.data.access_token),
    // A minute early, so a token never expires between being read and being used.
    expiresAt: ctx.now().getTime() + Math.max(0, expiresIn - 60) * 1000,
  };
}

// In memory only: a new token costs one call. Keyed by the credential's Secret object (a config
// reload makes new ones) and the endpoint (tests run many fake APIs).
const tokens = new WeakMap<Secret, Map<string, BearerToken>>();

/**
 * Runs `call` with a cached bearer token, fetching one when there is none or it expired. A 401
 * drops the token and tries once more with a new one; a second 401 is an error (a refresh loop would
 * hammer the token endpoint).
 */
export async function withBearer(
  ctx: CollectorContext,
  credential: { secret: Secret; endpoint: string },
  fetchToken: () => Promise<BearerToken>,
  call: (token: string) => Promise<HttpResponse>,
  who: string,
): Promise<HttpResponse> {
  const byEndpoint = tokens.get(credential.secret) ?? new Map<string, BearerToken>();
  tokens.set(credential.secret, byEndpoint);
  for (let attempt = 0; ; attempt++) {
    let token = byEndpoint.get(credential.endpoint);
    if (!token || token.expiresAt <= ctx.now().getTime()) {
      token = await fetchToken();
      byEndpoint.set(credential.endpoint, token);
    }
    const res = await call(token.value.reveal());
    if (res.status !== 401) return res;
    byEndpoint.delete(credential.endpoint);
    if (attempt >= 1)
      throw new SourceError(
        `${who} rejected the access token (HTTP 401 twice): check the app's credentials and permissions`,
        401,
        res.url,
      );
    ctx.logger.info(`${who} access token rejected; getting a new one`);
  }
}
