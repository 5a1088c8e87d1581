/**
 * The two keys that recognise one article reached through several sources (DESIGN.md section 5):
 * its canonical URL, and a signature of its normalised title (or, without a title, of its text).
 */
import { fold, tokenize } from '../topics/text.js';

// Query parameters that only say how a reader arrived, never which page it is.
const TRACKING =
  /^(utm_.*|fbclid|gclid|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|ref|ref_src|ref_url|cmpid|ocid|oc|spm|from|sns|_ga)$/i;

/**
 * The URL an article is known by: https, host without www./m./mobile./amp., no fragment, no
 * tracking parameters, the rest sorted, no trailing slash, no /amp suffix. Null for what is not an
 * http(s) URL.
 */
export function canonicalUrl(raw: string | null): string | null {
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const host = url.hostname.toLowerCase().replace(/^(?:www\d*|m|mobile|amp)\./, '');
  const path = url.pathname.replace(/\/amp\/?$|\.amp$/i, '').replace(/\/+$/, '');
  const params = [...url.searchParams].filter(
    ([k]) => !TRACKING.test(k) && k !== 'amp' && k !== 'outputType',
  );
  params.sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  const query = params.length > 0 ? `?${new URLSearchParams(params).toString()}` : '';
  return `https://${host}${url.port ? `:${url.port}` : ''}${path}${query}`;
}

// Fewer words than this say too little to call two items the same article ("Weekly update").
const MIN_SIGNATURE_TOKENS = 5;
const SIGNATURE_TOKENS = 40;
// News search feeds end titles with the publisher ("... - The Guardian", "... | 연합뉴스"); the
// same article from the publisher's own feed has no suffix.
const PUBLISHER_SUFFIX = /\s+[-–—|]\s+[^-–—|]{1,60}$/;
// Bracketed desk tags ("[단독]", "[속보]", "(LEAD)") vary between copies of one story.
const DESK_TAG = /^\s*(?:\[[^\]]{1,12}\]|\([^)]{1,12}\)|【[^】]{1,12}】)\s*/;

/** A title as copies of one story share it: without desk tag and publisher suffix. */
export function headline(title: string): string {
  return title.replace(DESK_TAG, '').replace(PUBLISHER_SUFFIX, '');
}

/**
 * A 64-bit hash (two FNV-1a rounds, hex) of the first words of a headline or text, already folded
 * and split; null when there are too few words to tell one story from another.
 */
export function signature(tokens: readonly string[]): string | null {
  if (tokens.length < MIN_SIGNATURE_TOKENS) return null;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ tokens.length;
  const n = Math.min(tokens.length, SIGNATURE_TOKENS);
  for (let t = 0; t < n; t++) {
    const token = tokens[t] as string;
    for (let i = 0; i <= token.length; i++) {
      // The separator (code 32 after each word) keeps "ab c" apart from "a bc".
      const c = i < token.length ? token.charCodeAt(i) : 32;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The signature of a mention: of its headline when it has a title, else of its text. */
export function textSignature(title: string | null, text: string): string | null {
  return signature(tokenize(fold(title?.trim() ? headline(title) : text)));
}
