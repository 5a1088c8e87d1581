import * as cheerio from 'cheerio';

const BLOCK = 'p, div, br, li, h1, h2, h3, h4, h5, h6, blockquote, pre, tr, article, section';

/**
 * Visible text of an HTML fragment: tags dropped, entities decoded, blocks separated by newlines,
 * runs of spaces collapsed. Scripts and styles never count as text.
 */
export function htmlToText(html: string): string {
  if (!/[<&]/.test(html)) return html.trim();
  const $ = cheerio.load(html, null, false);
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
