// interim, replaced at merge by the real module (pipeline/sentiment on its own branch).
// A tiny lexicon with the real interface; nothing may depend on the labels it gives.

export type SentimentLabel = 'positive' | 'negative' | 'neutral';
export interface Sentiment {
  label: SentimentLabel;
  score: number;
  model: string;
}
export interface SentimentModel {
  readonly id: string;
  score(text: string): Sentiment;
}
export interface SentimentModels {
  en: SentimentModel;
  ko: SentimentModel;
  forLanguage(lang: string): SentimentModel;
}

function lexiconModel(id: string, positive: string[], negative: string[]): SentimentModel {
  return {
    id,
    score(text: string): Sentiment {
      const t = text.toLowerCase();
      let s = 0;
      for (const w of positive) if (t.includes(w)) s++;
      for (const w of negative) if (t.includes(w)) s--;
      const score = Math.max(-1, Math.min(1, s / 2));
      return { label: score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral', score, model: id };
    },
  };
}

export function loadSentimentModels(_dir?: string): SentimentModels {
  const en = lexiconModel(
    'en-interim@0',
    ['love', 'great', 'good', 'best'],
    ['awful', 'broken', 'bad', 'worst'],
  );
  const ko = lexiconModel('ko-interim@0', ['최고', '만족', '좋아', '좋다'], ['실망', '최악', '느려', '별로']);
  return { en, ko, forLanguage: (lang) => (lang === 'ko' ? ko : en) };
}
