import * as cheerio from 'cheerio';

type Element = ReturnType<ReturnType<cheerio.CheerioAPI['root']>['children']>[number];

/** How deep markup may nest before flattenDeep folds it; real pages and feeds stay far below. */
const MAX_DEPTH = 256;

/** The text under `node` as cheerio's text() gives it (comments left out), without recursion. */
function textOf(node: Element): string {
  const parts: string[] = [];
  const stack = [...node.children].reverse();
  for (let n = stack.pop(); n; n = stack.pop()) {
    if (n.nodeType === 3) parts.push(n.data);
    else if ('children' in n)
      for (let i = n.children.length - 1; i >= 0; i--) {
        const child = n.children[i];
        if (child) stack.push(child);
      }
  }
  return parts.join('');
}

/**
 * Replaces every element nested deeper than MAX_DEPTH by its text. cheerio's text(), html() and
 * selectors recurse once per level, so a feed or page of a few thousand nested tags threw
 * "Maximum call stack size exceeded" (found by tests/fuzz/feeds-html.test.ts). Call it right after
 * cheerio.load on collected markup.
 */
export function flattenDeep($: cheerio.CheerioAPI): void {
  const stack: [Element, number][] = [];
  $.root()
    .children()
    .each((_, el) => {
      stack.push([el, 1]);
    });
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [el, depth] = top;
    if (depth >= MAX_DEPTH) $(el).text(textOf(el));
    else for (const child of el.children) if ('attribs' in child) stack.push([child, depth + 1]);
  }
}

const BLOCK = 'p, div, br, li, h1, h2, h3, h4, h5, h6, blockquote, pre, tr, article, section';

/**
 * Visible text of an HTML fragment: tags dropped, entities decoded, blocks separated by newlines,
 * runs of spaces collapsed. Scripts and styles never count as text.
 */
export function htmlToText(html: string): string {
  if (!/[<&]/.test(html)) return html.trim();
  const $ = cheerio.load(html, null, false);
  flattenDeep($);
  $('script, style, noscript, template').remove();
  $(BLOCK).each((_, el) => {
    $(el).append('\n');
  });
  return $.root()
    .text()
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n[\s]*/g, '\n')
    .trim();
}
