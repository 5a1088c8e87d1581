/**
 * DOM building without HTML strings: every piece of data becomes a text node or a property, never
 * markup (collected text is attacker-controlled, and the CSP forbids inline script anyway).
 */
import { t } from './i18n.js';

type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`on*` functions become listeners) and children (strings become text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `parent`. */
export function fill(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** A link to a collected URL, only when its scheme is http(s); otherwise null (no javascript:, data:, ...). */
export function safeLink(url: string | null | undefined, label: string): HTMLAnchorElement | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return el('a', { href: parsed.href, rel: 'noopener noreferrer', target: '_blank' }, label);
}

/** A table with a caption; cells are text or nodes. */
export function table(caption: string, headers: string[], rows: Child[][], className = ''): HTMLTableElement {
  return el(
    'table',
    { class: className || null },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
}

/** A form's submit handler: the page stays, `fn` runs instead. */
export function submitted(fn: () => unknown): (e: Event) => void {
  return (e) => {
    e.preventDefault();
    void fn();
  };
}

/** Debounces `fn` by `ms`: live validation asks the server once typing pauses. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A failure shown in place, with the server's own message. */
export function showError(where: HTMLElement, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  fill(where, el('p', { class: 'error', role: 'alert' }, t('common.error', { message })));
}
