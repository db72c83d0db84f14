/**
 * "a" or "an" before a word, by how it is spoken: provider names are often acronyms read letter by letter
 * ("an AWS", "an S3", "a GCP"), other words by their first letter ("an Azure", "a storage").
 */
const VOWEL_SOUND_LETTERS = new Set(['A', 'E', 'F', 'H', 'I', 'L', 'M', 'N', 'O', 'R', 'S', 'X']);

export function withArticle(word: string): string {
  return `${articleFor(word)} ${word}`;
}

function articleFor(word: string): 'a' | 'an' {
  const first = word.charAt(0);
  const spelledOut = /^[A-Z0-9]{2,}\b/.test(word) || /^[a-z]\d/i.test(word);
  if (spelledOut) return VOWEL_SOUND_LETTERS.has(first.toUpperCase()) ? 'an' : 'a';
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
