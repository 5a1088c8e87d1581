/**
 * What the scoring stage derives from one mention's own fields, with no database: language,
 * sentiment, the copy keys, the index terms and the topics it matches. Pure, so a worker thread runs it as well as the
 * main thread, on plain arrays that cross between them cheaply.
 */
import { resolveLanguage } from '../language/detect.js';
import type { SentimentModels } from '../sentiment/index.js';
import { type Matcher, MentionDoc } from '../topics/match.js';
import { fold, tokenize } from '../topics/text.js';
import { canonicalUrl, headline, signature } from './canonical.js';
import { termsOf } from './terms.js';

/** A batch of mentions as columns (what the scoring query reads). */
export interface ScoreInput {
  title: Array<string | null>;
  text: string[];
  lang: Array<string | null>;
  url: Array<string | null>;
  /** What topic queries' source: and author: filters read; only needed to tag. */
  source?: string[];
  author?: Array<string | null>;
}

/** Per mention, in input order. `terms` is space-separated (a term never holds a space). */
export interface ScoreOutput {
  lang: string[];
  langOrigin: string[];
  sentiment: string[];
  score: number[];
  model: string[];
  canonicalUrl: Array<string | null>;
  textSig: Array<string | null>;
  terms: string[];
  /** Topic hits as pairs (mention index, topic index), flat. */
  tags: number[];
  /**
   * Mentions left unscored, in order: only eld could tell their language and `library` was false.
   * Their other fields are placeholders until scoreDeferred (pipeline/scoring/pool.ts) fills them.
   */
  deferred: number[];
}

/** Compiled topic queries (their indices are what `tags` refers to) and the words they look up. */
export interface Topics {
  matchers: readonly Matcher[];
  keys: ReadonlySet<string>;
}

const NO_TOPICS: Topics = { matchers: [], keys: new Set() };

/** Scores a batch and tags it with `topics`; with `library` false, defers what needs eld (see `deferred`). */
export function computeScores(
  models: SentimentModels,
  input: ScoreInput,
  topics: Topics = NO_TOPICS,
  library = true,
): ScoreOutput {
  const matchers = topics.matchers;
  const n = input.text.length;
  const out: ScoreOutput = {
    lang: new Array(n),
    langOrigin: new Array(n),
    sentiment: new Array(n),
    score: new Array(n),
    model: new Array(n),
    canonicalUrl: new Array(n),
    textSig: new Array(n),
    terms: new Array(n),
    tags: [],
    deferred: [],
  };
  for (let i = 0; i < n; i++) {
    const title = input.title[i] ?? null;
    const text = input.text[i] ?? '';
    // Headlines carry most of an article's tone and language; a post has no title.
    const whole = title ? `${title}\n${text}` : text;
    const language = resolveLanguage(input.lang[i], whole, library);
    if (language === null) {
      out.deferred.push(i);
      out.lang[i] = '';
      out.langOrigin[i] = '';
      out.sentiment[i] = '';
      out.score[i] = 0;
      out.model[i] = '';
      out.canonicalUrl[i] = null;
      out.textSig[i] = null;
      out.terms[i] = '';
      continue;
    }
    const sentiment = models.forLanguage(language.lang).score(whole);
    out.lang[i] = language.lang;
    out.langOrigin[i] = language.origin;
    out.sentiment[i] = sentiment.label;
    out.score[i] = sentiment.score;
    out.model[i] = sentiment.model;
    out.canonicalUrl[i] = canonicalUrl(input.url[i] ?? null);
    // Folded and split once for the index terms, the signature and the topics, the costly part.
    const tokens = tokenize(fold(text));
    const titleTokens = title ? tokenize(fold(title)) : [];
    out.textSig[i] = signature(title?.trim() ? tokenize(fold(headline(title))) : tokens);
    out.terms[i] = termsOf(titleTokens.length > 0 ? [...titleTokens, ...tokens] : tokens).join(' ');
    if (matchers.length > 0) {
      const doc = new MentionDoc(
        {
          text,
          title,
          lang: input.lang[i] ?? null,
          source: input.source?.[i] ?? null,
          authorHandle: input.author?.[i] ?? null,
        },
        { text: tokens, title: titleTokens },
        topics.keys,
      );
      for (let t = 0; t < matchers.length; t++) if ((matchers[t] as Matcher)(doc)) out.tags.push(i, t);
    }
  }
  return out;
}
