import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import * as cheerio from 'cheerio';
import iconv from 'iconv-lite';
import { z } from 'zod';
import { SourceError } from '../pipeline/errors.js';
import type { Batch, Collector, CollectorContext, MentionRecord, QuarantineItem } from './contract.js';
import { decodeBody, type RetryPolicy, request } from './http.js';
import { flattenDeep, htmlToText } from './text.js';

/**
 * RSS 2.0, RSS 1.0 (RDF) and Atom feeds, plus the article pages their items link to (JSON-LD,
 * Open Graph, <article>). One partition per feed. Feeds are not ordered reliably (Google News sorts
 * by relevance), so progress is a set of seen item ids rather than a time cursor.
 */

/** Absolute http(s) URL; a path ("/feed.xml") is taken under the source's baseUrl (proxies, tests). */
function feedUrlProblem(value: string): string | null {
  if (value.startsWith('/') && !value.startsWith('//')) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL; write the full feed address, like "https://example.com/feed.xml"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `"${value}" uses ${url.protocol.replace(':', '')}; only http and https feeds can be collected`;
  }
  if (url.username || url.password) return `"${url.host}": credentials in a feed URL are not supported`;
  return null;
}

const feedUrlSchema = z
  .string()
  .trim()
  .min(1, 'a feed URL must not be empty')
  .superRefine((value, issue) => {
    const problem = feedUrlProblem(value);
    if (problem) issue.addIssue({ code: 'custom', message: problem });
  });

const configSchema = z
  .strictObject({
    /** Feed URLs, or {url, articles: false} to keep only what the feed itself says. */
    feeds: z
      .array(
        z.union([feedUrlSchema, z.strictObject({ url: feedUrlSchema, articles: z.boolean().default(true) })]),
      )
      .min(1, 'list at least one feed URL'),
    /** Article pages larger than this are not read (the item keeps the feed's own text). */
    maxArticleBytes: z
      .number()
      .int()
      .min(16 * 1024)
      .max(50 * 1024 * 1024)
      .default(2 * 1024 * 1024),
  })
  .superRefine((config, issue) => {
    const seen = new Set<string>();
    config.feeds.forEach((feed, i) => {
      const url = typeof feed === 'string' ? feed : feed.url;
      if (seen.has(url))
        issue.addIssue({ code: 'custom', path: ['feeds', i], message: `${url} is listed twice` });
      seen.add(url);
    });
  });
type Config = z.infer<typeof configSchema>;
type FeedPartition = { key: string; url: string; articles: boolean };

/**
 * `seen`: ids of items already stored (bounded: the ones still in the feed first, then the most
 * recent others). `floor`: only when a feed holds more items than `seen` keeps: dated items older
 * than it are taken as seen. `etag`/`lastModified`: validators of the last feed body read to the end.
 */
const bookmarkSchema = z.object({
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  seen: z.array(z.string()).default([]),
  floor: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'not a date')
    .optional(),
});
type Bookmark = z.infer<typeof bookmarkSchema>;

const BATCH_SIZE = 10;
const SEEN_LIMIT = 1000;
const FEED_MAX_BYTES = 10 * 1024 * 1024;
const MAX_TEXT = 20_000;
const MAX_REDIRECTS = 3;
const ARTICLE_CONCURRENCY = 4;
const ARTICLE_TIMEOUT_MS = 20_000;
/** A broken article page must not hold the feed up for minutes; a 429 from it is not waited out. */
const ARTICLE_POLICY: RetryPolicy = { retries: 2, baseDelayMs: 1000, maxDelayMs: 8000, rateLimitWaits: 0 };
/**
 * Hosts whose item links lead to a script redirect (or a consent wall), never to the article:
 * reading them costs a request per item and, at best, stores nothing better than the feed's text.
 */
const NO_ARTICLE_HOSTS = new Set(['news.google.com']);
const USER_AGENT = 'earshot/0.1 (feed reader)';
const FEED_ACCEPT =
  'application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5';
const HTML_ACCEPT = 'text/html, application/xhtml+xml;q=0.9, */*;q=0.1';

// ---------------------------------------------------------------------------------------------
// Which hosts an article link may point at

export type HostClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

const v4 = (list: BlockList, ranges: Array<[string, number]>) => {
  for (const [net, bits] of ranges) list.addSubnet(net, bits, 'ipv4');
};
const v6 = (list: BlockList, ranges: Array<[string, number]>) => {
  for (const [net, bits] of ranges) list.addSubnet(net, bits, 'ipv6');
};
const LOOPBACK = new BlockList();
v4(LOOPBACK, [['127.0.0.0', 8]]);
v6(LOOPBACK, [['::1', 128]]);
const LINK_LOCAL = new BlockList();
v4(LINK_LOCAL, [['169.254.0.0', 16]]);
v6(LINK_LOCAL, [['fe80::', 10]]);
const PRIVATE = new BlockList();
v4(PRIVATE, [
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
]);
v6(PRIVATE, [['fc00::', 7]]);
const RESERVED = new BlockList();
v4(RESERVED, [
  ['0.0.0.0', 8],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
]);
v6(RESERVED, [
  ['::', 128],
  ['ff00::', 8],
  ['2001:db8::', 32],
]);

/** Class of an IP literal (IPv4-mapped IPv6 counts as its IPv4 address). */
export function addressClass(address: string): HostClass {
  const ip = address.replace(/^\[|\]$/g, '');
  const kind = isIP(ip);
  if (kind === 0) return 'reserved';
  const family = kind === 4 ? 'ipv4' : 'ipv6';
  // NAT64 and 6to4 embed an IPv4 address that the gateway would reach.
  const embedded = kind === 6 ? embeddedIpv4(ip) : null;
  if (embedded) return addressClass(embedded);
  if (LOOPBACK.check(ip, family)) return 'loopback';
  if (LINK_LOCAL.check(ip, family)) return 'link-local';
  if (PRIVATE.check(ip, family)) return 'private';
  if (RESERVED.check(ip, family)) return 'reserved';
  return 'public';
}

function embeddedIpv4(ip: string): string | null {
  const lower = ip.toLowerCase();
  const m = /^(?:64:ff9b::|2002:)([0-9a-f]{1,4}):([0-9a-f]{1,4})(?:::)?$/.exec(lower);
  if (!m?.[1] || !m[2]) return null;
  const hi = Number.parseInt(m[1], 16);
  const lo = Number.parseInt(m[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Class of a host name without DNS: IP literals and reserved names; null when only DNS can tell. */
export function literalHostClass(hostname: string): HostClass | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') || isIP(host) !== 0) return addressClass(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (!host.includes('.') || /\.(?:local|internal|lan|home\.arpa|intranet|corp)$/.test(host))
    return 'private';
  return null;
}

/**
 * The rule for links found in a feed: public hosts always; local hosts (loopback, private,
 * link-local) only when the feed itself is on the same kind of host, so a public feed cannot make
 * us read 127.0.0.1, the LAN or a cloud metadata endpoint. The feed's own host is always allowed.
 */
export function linkAllowed(link: HostClass, feed: HostClass): boolean {
  if (link === 'reserved') return false;
  return link === 'public' || link === feed;
}

export type Lookup = (hostname: string) => Promise<string[]>;

const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

const RANK: Record<HostClass, number> = { public: 0, private: 1, loopback: 2, 'link-local': 3, reserved: 4 };

/** Class of a host: the least public of its addresses. */
export async function hostClass(hostname: string, lookup: Lookup = systemLookup): Promise<HostClass> {
  const literal = literalHostClass(hostname);
  if (literal) return literal;
  const addresses = await lookup(hostname);
  if (addresses.length === 0) throw new Error(`${hostname} has no address`);
  let worst: HostClass = 'public';
  for (const a of addresses) {
    const c = addressClass(a);
    if (RANK[c] > RANK[worst]) worst = c;
  }
  return worst;
}

export interface FeedOrigin {
  hostname: string;
  cls: HostClass;
}

/** Why `url` may not be fetched for a feed at `feed`, or null when it may. */
export async function linkRefusal(
  url: URL,
  feed: FeedOrigin,
  lookup: Lookup = systemLookup,
): Promise<string | null> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} links are not followed`;
  if (url.username || url.password) return 'links with credentials are not followed';
  if (url.hostname.toLowerCase() === feed.hostname.toLowerCase()) return null;
  let cls: HostClass;
  try {
    cls = await hostClass(url.hostname, lookup);
  } catch (err) {
    return `cannot resolve ${url.hostname}: ${(err as Error).message}`;
  }
  return linkAllowed(cls, feed.cls) ? null : `${url.hostname} is a ${cls} address and the feed is not`;
}

/**
 * ctx with a fetch that checks every hop of a link against the rule and follows at most a few
 * redirects itself (request() lets fetch follow them, which would skip the check).
 */
export function guardedContext(
  ctx: CollectorContext,
  feed: FeedOrigin,
  lookup: Lookup = systemLookup,
): CollectorContext {
  const guarded = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    for (let hop = 0; ; hop++) {
      const refusal = await linkRefusal(url, feed, lookup);
      if (refusal) throw new SourceError(`refused to fetch ${url.href}: ${refusal}`, null, url.href);
      const res = await ctx.fetch(url.href, { ...init, redirect: 'manual' });
      const location = res.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new SourceError(`more than ${MAX_REDIRECTS} redirects from ${url.href}`, res.status, url.href);
      }
      url = new URL(location, url);
    }
  };
  return { ...ctx, fetch: guarded as typeof fetch };
}

// ---------------------------------------------------------------------------------------------
// Feeds

/**
 * Feed bytes as text: the Content-Type charset, else the XML declaration. decodeBody looks for a
 * <meta charset> before the declaration, and a feed can carry one inside a CDATA item body.
 */
export function decodeFeed(headers: Headers, body: Buffer): string {
  if (!/charset\s*=/i.test(headers.get('content-type') ?? '')) {
    const head = body.toString('latin1', 0, Math.min(body.length, 200));
    const declared = /^(?:\uFEFF|\xEF\xBB\xBF)?\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']/i.exec(
      head,
    )?.[1];
    if (declared && /^utf-?8$/i.test(declared)) return body.toString('utf8').replace(/^\uFEFF/, '');
    if (declared && iconv.encodingExists(declared)) return iconv.decode(body, declared);
  }
  return decodeBody(headers, body);
}

interface FeedItem {
  nativeId: string;
  link: string | null;
  title: string | null;
  /** HTML (content:encoded, Atom content) or text, as the feed gives it. */
  body: string | null;
  date: Date | null;
  authorName: string | null;
  authorEmail: string | null;
  sourceName: string | null;
  sourceUrl: string | null;
  lang: string | null;
  xml: string;
}

interface BadItem {
  marker: string;
  xml: string;
  error: string;
}

interface ParsedFeed {
  kind: 'rss' | 'atom' | 'rdf';
  title: string | null;
  lang: string | null;
  items: Array<FeedItem | BadItem>;
}

type Nodes = ReturnType<ReturnType<cheerio.CheerioAPI['root']>['children']>;

const ZONES: Record<string, string> = {
  UT: '+0000',
  UTC: '+0000',
  GMT: '+0000',
  Z: '+0000',
  KST: '+0900',
  JST: '+0900',
  HKT: '+0800',
  SGT: '+0800',
  IST: '+0530',
  CET: '+0100',
  CEST: '+0200',
  BST: '+0100',
  EET: '+0200',
  EEST: '+0300',
  AEST: '+1000',
  AEDT: '+1100',
  EST: '-0500',
  EDT: '-0400',
  CST: '-0600',
  CDT: '-0500',
  MST: '-0700',
  MDT: '-0600',
  PST: '-0800',
  PDT: '-0700',
};

/** RFC 822 (RSS) and ISO 8601 (Atom, dc:date, JSON-LD) dates; a time without a zone is taken as UTC. */
export function parseFeedDate(value: string | null | undefined): Date | null {
  const s = value?.trim();
  if (!s) return null;
  let text = s;
  const iso =
    /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i.exec(
      s,
    );
  if (iso) {
    const [, day, time, zone] = iso;
    if (!time) text = `${day}T00:00:00Z`;
    else {
      const z =
        !zone || zone.toUpperCase() === 'Z'
          ? 'Z'
          : zone.replace(/^([+-]\d{2}):?(\d{2})?$/, (_, h, m) => `${h}:${m ?? '00'}`);
      text = `${day}T${time.replace(',', '.')}${z}`;
    }
  } else {
    text = s.replace(/\s+([A-Za-z]{1,4})$/, (whole, zone: string) => {
      const offset = ZONES[zone.toUpperCase()];
      return offset ? ` ${offset}` : whole;
    });
    if (/\d{1,2}:\d{2}(?::\d{2})?$/.test(text)) text += ' +0000';
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  const year = new Date(ms).getUTCFullYear();
  return year < 1970 || year > 2200 ? null : new Date(ms);
}

/** Why `text` is not a whole feed document (cheerio parses anything), or null. */
export function feedProblem(text: string): string | null {
  const head =
    /^\uFEFF?\s*(?:<\?[\s\S]*?\?>\s*|<!--[\s\S]*?-->\s*|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>\s*)*<([A-Za-z_][\w.:-]*)/.exec(
      text,
    );
  if (!head?.[1]) {
    const start = text.trim().slice(0, 60).replace(/\s+/g, ' ');
    return `not an RSS or Atom feed: no root element (starts with "${start}")`;
  }
  const root = head[1];
  const local = root.split(':').pop()?.toLowerCase();
  if (local !== 'rss' && local !== 'feed' && local !== 'rdf') {
    return `not an RSS or Atom feed: the root element is <${root}>`;
  }
  let tail = text.trimEnd();
  while (tail.endsWith('-->')) {
    const open = tail.lastIndexOf('<!--');
    if (open < 0) break;
    tail = tail.slice(0, open).trimEnd();
  }
  const close = new RegExp(`</${root.replace(/[.]/g, '\\.')}\\s*>$`);
  if (!close.test(tail)) return `truncated or garbled feed: the document does not end with </${root}>`;
  return null;
}

function childrenNamed(node: Nodes, ...names: string[]): Nodes {
  return node.children().filter((_, el) => names.includes(el.tagName.toLowerCase()));
}

function childText(node: Nodes, ...names: string[]): string | null {
  for (const name of names) {
    const text = childrenNamed(node, name).first().text().trim();
    if (text) return text;
  }
  return null;
}

function httpUrl(value: string | null | undefined, base: string): string | null {
  if (!value) return null;
  try {
    const url = new URL(value.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/** "jdoe@example.com (Jane Doe)" (RSS author), "Jane Doe <jdoe@...>", or a bare name. */
function splitAuthor(value: string | null): { name: string | null; email: string | null } {
  if (!value) return { name: null, email: null };
  const paren = /^\s*([^\s@()]+@[^\s()]+)\s*\(([^)]*)\)\s*$/.exec(value);
  if (paren) return { name: paren[2]?.trim() || null, email: paren[1] ?? null };
  const angle = /^\s*(.*?)\s*<([^>\s]+@[^>\s]+)>\s*$/.exec(value);
  if (angle) return { name: angle[1] || null, email: angle[2] ?? null };
  if (/^[^\s@]+@[^\s@]+$/.test(value.trim())) return { name: null, email: value.trim() };
  return { name: value.trim(), email: null };
}

/**
 * A guid is used as it is when it looks globally unique (it has a scheme: URL, tag:, urn:); bare
 * ones ("12345") are only unique within their site, so they are prefixed with the feed's host.
 */
function itemId(guid: string | null, link: string | null, feedHost: string, fallback: string): string {
  if (guid) return /^[a-z][a-z0-9+.-]*:/i.test(guid) ? guid : `${feedHost}/${guid}`;
  return link ?? `${feedHost}/sha256:${fallback}`;
}

function atomLink(entry: Nodes, base: string): string | null {
  const links = childrenNamed(entry, 'link');
  let best: string | null = null;
  links.each((_, el) => {
    const rel = (el.attribs.rel ?? 'alternate').toLowerCase();
    const type = (el.attribs.type ?? 'text/html').toLowerCase();
    if (best === null && rel === 'alternate' && type.includes('html')) best = el.attribs.href ?? null;
  });
  if (best === null) {
    links.each((_, el) => {
      if (best === null && (el.attribs.rel ?? 'alternate') === 'alternate') best = el.attribs.href ?? null;
    });
  }
  return httpUrl(best, base);
}

/** The markup of `nodes` exactly as received (serialising would turn every non-ASCII letter into an entity). */
function original(text: string, nodes: Nodes): string {
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  if (!first || !last || first.startIndex === null || last.endIndex === null) return '';
  return text.slice(first.startIndex, last.endIndex + 1);
}

/** An Atom text construct as HTML, whatever its type (text, html, xhtml). */
function atomText(node: Nodes, text: string): string | null {
  if (node.length === 0) return null;
  const type = (node.attr('type') ?? 'text').toLowerCase();
  if (type === 'xhtml') {
    const div = node.children().first();
    return original(text, div.length ? div.children() : node.children()).trim() || null;
  }
  const value = node.text().trim();
  if (!value) return null;
  return type.includes('html')
    ? value
    : value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export function parseFeed(
  text: string,
  feedUrl: string,
): { ok: true; feed: ParsedFeed } | { ok: false; error: string } {
  const problem = feedProblem(text);
  if (problem) return { ok: false, error: problem };
  const $ = cheerio.load(text, { xml: { xmlMode: true, withStartIndices: true, withEndIndices: true } });
  flattenDeep($);
  const root = $.root().children().first();
  const local = root[0]?.tagName.split(':').pop()?.toLowerCase();
  const feedHost = new URL(feedUrl).hostname;
  const items: Array<FeedItem | BadItem> = [];

  const finish = (raw: Omit<FeedItem, 'nativeId'> & { guid: string | null }): FeedItem | BadItem => {
    const { guid, ...item } = raw;
    if (!guid && !item.link && !item.title && !item.body) {
      return {
        marker: `invalid:${hash(item.xml)}`,
        xml: item.xml,
        error: 'item without id, link, title or text',
      };
    }
    const fallback = hash(`${item.title ?? ''}\n${item.body ?? ''}\n${item.date?.toISOString() ?? ''}`);
    return { ...item, nativeId: itemId(guid, item.link, feedHost, fallback) };
  };

  if (local === 'feed') {
    const feedLang = root.attr('xml:lang') ?? null;
    const feedAuthor = childText(childrenNamed(root, 'author').first(), 'name');
    childrenNamed(root, 'entry').each((_, el) => {
      const entry = $(el);
      const base = httpUrl(entry.attr('xml:base'), feedUrl) ?? feedUrl;
      const author = splitAuthor(childText(childrenNamed(entry, 'author').first(), 'name') ?? feedAuthor);
      const email = childText(childrenNamed(entry, 'author').first(), 'email');
      const source = childrenNamed(entry, 'source').first();
      items.push(
        finish({
          guid: childText(entry, 'id'),
          link: atomLink(entry, base),
          title: atomText(childrenNamed(entry, 'title').first(), text),
          body:
            atomText(childrenNamed(entry, 'content').first(), text) ??
            atomText(childrenNamed(entry, 'summary').first(), text),
          date: parseFeedDate(childText(entry, 'published', 'updated', 'issued', 'modified')),
          authorName: author.name,
          authorEmail: email ?? author.email,
          sourceName: source.length ? childText(source, 'title') : null,
          sourceUrl: source.length ? atomLink(source, base) : null,
          lang: entry.attr('xml:lang') ?? null,
          xml: original(text, $(el)),
        }),
      );
    });
    return {
      ok: true,
      feed: {
        kind: 'atom',
        title: atomText(childrenNamed(root, 'title').first(), text),
        lang: feedLang,
        items,
      },
    };
  }

  const channel = childrenNamed(root, 'channel').first();
  if (channel.length === 0) return { ok: false, error: `feed without a <channel> element` };
  // RSS 2.0 items are inside <channel>; RSS 1.0 (RDF) items are siblings of it.
  const itemNodes = local === 'rss' ? childrenNamed(channel, 'item') : childrenNamed(root, 'item');
  itemNodes.each((_, el) => {
    const item = $(el);
    const guid = childText(item, 'guid') ?? (local === 'rdf' ? (item.attr('rdf:about') ?? null) : null);
    const author = splitAuthor(childText(item, 'dc:creator', 'author'));
    const source = childrenNamed(item, 'source').first();
    items.push(
      finish({
        guid,
        link: httpUrl(childText(item, 'link'), feedUrl),
        title: childText(item, 'title'),
        body: childText(item, 'content:encoded', 'description'),
        date: parseFeedDate(childText(item, 'pubdate', 'dc:date', 'a10:updated')),
        authorName: author.name,
        authorEmail: author.email,
        sourceName: source.text().trim() || null,
        sourceUrl: httpUrl(source.attr('url'), feedUrl),
        lang: childText(item, 'dc:language'),
        xml: original(text, $(el)),
      }),
    );
  });
  return {
    ok: true,
    feed: {
      kind: local === 'rss' ? 'rss' : 'rdf',
      title: childText(channel, 'title'),
      lang: childText(channel, 'language', 'dc:language'),
      items,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Article pages

export interface Article {
  url: string;
  title: string | null;
  description: string | null;
  siteName: string | null;
  publishedAt: Date | null;
  author: string | null;
  publisher: string | null;
  lang: string | null;
  text: string | null;
  /** Where `text` came from. */
  from: 'json-ld' | 'article' | 'paragraphs' | null;
}

const ARTICLE_TYPE =
  /^(?:https?:\/\/schema\.org\/)?(?:NewsArticle|Article|BlogPosting|ReportageNewsArticle|AnalysisNewsArticle|OpinionNewsArticle|BackgroundNewsArticle|ReviewNewsArticle|LiveBlogPosting|SocialMediaPosting|TechArticle|Report)$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** Every object with an @type, through arrays, @graph and nested properties (bounded). */
function jsonLdNodes(value: unknown, out: Json[], depth = 0): void {
  if (depth > 6 || out.length > 200) return;
  if (Array.isArray(value)) {
    for (const v of value) jsonLdNodes(v, out, depth + 1);
    return;
  }
  if (!isObject(value)) return;
  if ('@type' in value) out.push(value);
  for (const v of Object.values(value))
    if (typeof v === 'object' && v !== null) jsonLdNodes(v, out, depth + 1);
}

function isArticleNode(node: Json): boolean {
  const type = node['@type'];
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => typeof t === 'string' && ARTICLE_TYPE.test(t));
}

/** Names of a JSON-LD author/publisher: a string, {name}, or a list of them. */
function names(value: unknown): string | null {
  const list = (Array.isArray(value) ? value : [value])
    .map((v) => (isObject(v) ? str(v.name) : str(v)))
    .filter((v): v is string => v !== null && !/^https?:\/\//.test(v));
  return list.length ? [...new Set(list)].join(', ') : null;
}

function cap(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

const plain = (v: string | null | undefined): string | null => (v ? htmlToText(v) || null : null);

export function extractArticle(html: string, url: string): Article {
  const $ = cheerio.load(html);
  flattenDeep($);
  const meta = (...keys: string[]): string | null => {
    for (const key of keys) {
      const value = $(`meta[property="${key}"], meta[name="${key}"]`).first().attr('content')?.trim();
      if (value) return value;
    }
    return null;
  };

  const nodes: Json[] = [];
  $('script[type="application/ld+json"]').each((_, el) => {
    const text = $(el).text().trim();
    if (!text) return;
    try {
      jsonLdNodes(JSON.parse(text), nodes);
    } catch {
      // Pages ship broken JSON-LD often enough; the other signals remain.
    }
  });
  const ld = nodes.find(isArticleNode) ?? null;
  const ldPublisher = ld ? names(ld.publisher) : null;

  let text = plain(str(ld?.articleBody));
  let from: Article['from'] = text ? 'json-ld' : null;
  $('script, style, noscript, template, nav, aside, form, button, svg, iframe').remove();
  if (!text) {
    const article = $('article').first();
    text = article.length ? plain(article.html()) : null;
    if (text) from = 'article';
  }
  if (!text) {
    const scope = $('main').length ? $('main') : $('body');
    const paragraphs = scope
      .find('p')
      .filter((_, el) => $(el).closest('header, footer').length === 0)
      .map((_, el) => $(el).text().replace(/\s+/g, ' ').trim())
      .get()
      .filter((p) => p.length >= 40);
    text = paragraphs.length ? paragraphs.join('\n') : null;
    if (text) from = 'paragraphs';
  }

  return {
    url,
    title:
      plain(str(ld?.headline)) ??
      plain(meta('og:title', 'twitter:title')) ??
      plain($('title').first().text()),
    description:
      plain(str(ld?.description)) ?? plain(meta('og:description', 'description', 'twitter:description')),
    siteName: plain(meta('og:site_name')),
    publishedAt:
      parseFeedDate(str(ld?.datePublished)) ?? parseFeedDate(meta('article:published_time', 'datePublished')),
    // article:author is often a profile URL rather than a name.
    author: (ld ? names(ld.author) : null) ?? names(plain(meta('author', 'article:author'))),
    publisher: ldPublisher ?? plain(meta('og:site_name')),
    lang: $('html').attr('lang')?.trim() || null,
    text: text ? cap(text) : null,
    from,
  };
}

async function fetchArticle(link: string, articleCtx: CollectorContext, maxBytes: number): Promise<Article> {
  const res = await request(articleCtx, link, {
    headers: { accept: HTML_ACCEPT, 'user-agent': USER_AGENT },
    maxBytes,
    timeoutMs: ARTICLE_TIMEOUT_MS,
    policy: ARTICLE_POLICY,
  });
  const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const head = res.body.toString('latin1', 0, Math.min(res.body.length, 1024));
  if (type ? !/html/.test(type) : !/<(?:!doctype html|html)/i.test(head)) {
    throw new SourceError(`not an HTML page (${type || 'no content type'})`, res.status, link);
  }
  return extractArticle(decodeBody(res.headers, res.body), res.url);
}

// ---------------------------------------------------------------------------------------------
// Records and bookmarks

function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return null;
  }
}

function toRecord(
  item: FeedItem,
  feed: ParsedFeed,
  feedHost: string,
  article: Article | null,
  articleError: string | null,
  firstSeen: Date,
): MentionRecord {
  const feedText = plain(item.body);
  const title = plain(item.title) ?? article?.title ?? null;
  const text = cap(article?.text ?? feedText ?? article?.description ?? title ?? '');
  const published = item.date ?? article?.publishedAt ?? null;
  const byline = item.authorName ?? article?.author ?? null;
  const publisher = item.sourceName ?? article?.publisher ?? null;
  const authorName = byline ?? publisher;
  const site = hostOf(item.sourceUrl) ?? hostOf(article?.url ?? null) ?? hostOf(item.link) ?? feedHost;
  return {
    nativeId: item.nativeId,
    url: item.link,
    title,
    text,
    lang: item.lang ?? feed.lang ?? article?.lang ?? null,
    channel: plain(feed.title),
    authorId: authorName ? `${site}/${authorName}` : null,
    authorHandle: item.authorEmail,
    authorName,
    authorFollowers: null,
    createdAt: published ?? firstSeen,
    createdAtEstimated: published === null,
    likes: null,
    reposts: null,
    replies: null,
    views: null,
    parentId: null,
    conversationId: null,
    repostOf: null,
    raw: {
      item: item.xml,
      article: article
        ? { ...article, text: undefined, publishedAt: article.publishedAt?.toISOString() ?? null }
        : null,
      ...(articleError ? { articleError } : {}),
      ...(publisher ? { publisher } : {}),
    },
  };
}

/**
 * The bookmark a finished run leaves: ids still in the feed are kept first (they are the ones the
 * next run will see again), then the most recent others. Only when the feed itself holds more
 * items than that are its oldest dated ones dropped, and `floor` says they were seen.
 */
export function finalSeen(
  seen: readonly string[],
  inFeed: ReadonlyMap<string, Date | null>,
  floorMs: number | null,
  runStart: Date,
  limit = SEEN_LIMIT,
): { seen: string[]; floorMs: number | null } {
  let current = seen.filter((id) => inFeed.has(id));
  const others = seen.filter((id) => !inFeed.has(id));
  let floor = floorMs;
  if (current.length > limit) {
    const time = (id: string) => inFeed.get(id)?.getTime() ?? Number.POSITIVE_INFINITY;
    const newestFirst = [...current].sort((a, b) => time(b) - time(a));
    const kept = new Set(newestFirst.slice(0, limit));
    for (const id of newestFirst.slice(limit)) {
      const t = time(id);
      if (Number.isFinite(t))
        floor = Math.max(floor ?? Number.NEGATIVE_INFINITY, Math.min(t, runStart.getTime()));
    }
    current = current.filter((id) => kept.has(id));
  }
  const room = limit - current.length;
  return { seen: [...(room > 0 ? others.slice(-room) : []), ...current], floorMs: floor };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function feedLocation(feed: string, baseUrl: string): string {
  if (!feed.startsWith('/')) return feed;
  if (!baseUrl) {
    throw new SourceError(
      `feed "${feed}" is a path: write the full URL, or set baseUrl for the rss source to the site it is on`,
      null,
      feed,
    );
  }
  return `${baseUrl.replace(/\/+$/, '')}${feed}`;
}

function isItem(entry: FeedItem | BadItem): entry is FeedItem {
  return 'nativeId' in entry;
}

export const rss: Collector<Config, FeedPartition, Bookmark> = {
  id: 'rss',
  defaultBaseUrl: '',
  configSchema,
  bookmarkSchema,

  partitions(config) {
    return config.feeds.map((feed) =>
      typeof feed === 'string'
        ? { key: feed, url: feed, articles: true }
        : { key: feed.url, url: feed.url, articles: feed.articles },
    );
  },

  async check(config, ctx) {
    const first = config.feeds[0];
    if (!first) return { ok: false, reason: 'no feeds configured' };
    try {
      const url = feedLocation(typeof first === 'string' ? first : first.url, ctx.baseUrl);
      const res = await request(ctx, url, {
        headers: { accept: FEED_ACCEPT, 'user-agent': USER_AGENT },
        maxBytes: FEED_MAX_BYTES,
        policy: { retries: 1, baseDelayMs: 500, maxDelayMs: 2000, rateLimitWaits: 0 },
      });
      const problem = feedProblem(decodeFeed(res.headers, res.body));
      return problem ? { ok: false, reason: `${url}: ${problem}` } : { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  },

  async *read(config, partition, bookmark, ctx): AsyncGenerator<Batch<Bookmark>> {
    const runStart = ctx.now();
    const prevSeen = bookmark?.seen ?? [];
    const floorMs = bookmark?.floor ? Date.parse(bookmark.floor) : null;
    const feedUrl = feedLocation(partition.url, ctx.baseUrl);

    const headers: Record<string, string> = { accept: FEED_ACCEPT, 'user-agent': USER_AGENT };
    if (bookmark?.etag) headers['if-none-match'] = bookmark.etag;
    if (bookmark?.lastModified) headers['if-modified-since'] = bookmark.lastModified;
    const res = await request(ctx, feedUrl, { headers, accept: [304], maxBytes: FEED_MAX_BYTES });
    if (res.status === 304) {
      ctx.logger.debug({ feed: feedUrl }, 'feed not modified');
      return;
    }

    const unchanged: Bookmark = {
      ...(bookmark?.etag !== undefined ? { etag: bookmark.etag } : {}),
      ...(bookmark?.lastModified !== undefined ? { lastModified: bookmark.lastModified } : {}),
      seen: prevSeen,
      ...(bookmark?.floor !== undefined ? { floor: bookmark.floor } : {}),
    };
    const text = decodeFeed(res.headers, res.body);
    const parsed = parseFeed(text, res.url);
    if (!parsed.ok) {
      yield {
        records: [],
        quarantine: [{ raw: text, error: parsed.error, url: feedUrl }],
        bookmark: unchanged,
        failed: `${feedUrl}: ${parsed.error}`,
      };
      return;
    }
    const feed = parsed.feed;
    const feedHost = new URL(res.url).hostname;

    const seenSet = new Set(prevSeen);
    const inFeed = new Map<string, Date | null>();
    const fresh: FeedItem[] = [];
    const quarantine: QuarantineItem[] = [];
    const badMarkers: string[] = [];
    for (const entry of feed.items) {
      if (!isItem(entry)) {
        inFeed.set(entry.marker, null);
        if (seenSet.has(entry.marker) || badMarkers.includes(entry.marker)) continue;
        quarantine.push({ raw: entry.xml, error: entry.error, url: feedUrl });
        badMarkers.push(entry.marker);
        continue;
      }
      if (inFeed.has(entry.nativeId)) continue;
      inFeed.set(entry.nativeId, entry.date);
      if (seenSet.has(entry.nativeId)) continue;
      if (floorMs !== null && entry.date && entry.date.getTime() < floorMs) continue;
      fresh.push(entry);
    }
    // Oldest first (feeds list newest first), so an interrupted run has stored a prefix in time.
    fresh.reverse();
    fresh.sort(
      (a, b) =>
        (a.date?.getTime() ?? Number.POSITIVE_INFINITY) - (b.date?.getTime() ?? Number.POSITIVE_INFINITY),
    );
    ctx.logger.debug({ feed: feedUrl, items: feed.items.length, fresh: fresh.length }, 'feed read');

    // Resolved once, when the first article is read: a feed whose items are all seen costs no DNS.
    let feedOrigin: Promise<FeedOrigin> | null = null;
    const originClass = (): Promise<FeedOrigin> => {
      feedOrigin ??= hostClass(feedHost).then(
        (cls) => ({ hostname: feedHost, cls }),
        // The feed was just fetched from it; if its name no longer resolves, treat it as public.
        () => ({ hostname: feedHost, cls: 'public' as const }),
      );
      return feedOrigin;
    };

    const validators = {
      ...(res.headers.get('etag') ? { etag: res.headers.get('etag') as string } : {}),
      ...(res.headers.get('last-modified')
        ? { lastModified: res.headers.get('last-modified') as string }
        : {}),
    };
    let seen = [...prevSeen, ...badMarkers];
    const batches = Math.max(1, Math.ceil(fresh.length / BATCH_SIZE));
    for (let b = 0; b < batches; b++) {
      const chunk = fresh.slice(b * BATCH_SIZE, (b + 1) * BATCH_SIZE);
      const records = await mapLimit(chunk, ARTICLE_CONCURRENCY, async (item) => {
        let article: Article | null = null;
        let articleError: string | null = null;
        if (partition.articles && item.link && !NO_ARTICLE_HOSTS.has(new URL(item.link).hostname)) {
          try {
            const origin = await originClass();
            article = await fetchArticle(item.link, guardedContext(ctx, origin), config.maxArticleBytes);
          } catch (err) {
            if (ctx.signal.aborted) throw err;
            articleError = (err as Error).message;
            ctx.logger.warn(
              { url: item.link, reason: articleError },
              'article not read; keeping the feed text',
            );
          }
        }
        return toRecord(item, feed, feedHost, article, articleError, runStart);
      });
      seen = [...seen, ...chunk.map((item) => item.nativeId)];
      const last = b === batches - 1;
      let next: Bookmark;
      if (last) {
        // Validators only now: stored earlier, a crash would turn the next run's fetch into a 304.
        const trimmed = finalSeen(seen, inFeed, floorMs, runStart);
        next = {
          ...validators,
          seen: trimmed.seen,
          ...(trimmed.floorMs !== null ? { floor: new Date(trimmed.floorMs).toISOString() } : {}),
        };
      } else {
        next = { seen, ...(bookmark?.floor !== undefined ? { floor: bookmark.floor } : {}) };
      }
      yield { records, quarantine: b === 0 ? quarantine : [], bookmark: next, total: fresh.length };
    }
  },
};
