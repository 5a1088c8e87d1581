// interim, replaced at merge by the real module (pipeline/language on its own branch).
// Only the interface is relied on: nothing else may depend on how this version decides.

export type Lang = 'ko' | 'en' | 'ja' | 'zh' | 'other';
export const LANGS: readonly Lang[] = ['ko', 'en', 'ja', 'zh', 'other'];

export function detectLanguage(text: string): Lang {
  let hangul = 0;
  let kana = 0;
  let han = 0;
  let latin = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0xac00 && c <= 0xd7a3) hangul++;
    else if (c >= 0x3040 && c <= 0x30ff) kana++;
    else if (c >= 0x4e00 && c <= 0x9fff) han++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) latin++;
  }
  if (hangul > 0 && hangul >= kana + han) return 'ko';
  if (kana > 0) return 'ja';
  if (han > 0) return 'zh';
  return latin > 0 ? 'en' : 'other';
}

export function resolveLanguage(
  platformTag: string | null | undefined,
  text: string,
): { lang: Lang; origin: 'platform' | 'detected' } {
  const tag = platformTag?.toLowerCase().split(/[-_]/)[0];
  if (tag && tag !== 'und') {
    return { lang: (LANGS as readonly string[]).includes(tag) ? (tag as Lang) : 'other', origin: 'platform' };
  }
  return { lang: detectLanguage(text), origin: 'detected' };
}
