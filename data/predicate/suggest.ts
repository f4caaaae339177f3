/**
 * "Did you mean" suggestions for misspelt column names, category levels and function names.
 *
 * Distance: optimal string alignment (Damerau–Levenshtein restricted to non-overlapping edits: insert,
 * delete, substitute, swap two adjacent characters; Boytsov 2011, "Indexing methods for approximate
 * dictionary searching", §2), computed case-insensitively with two rolling rows. A case-only difference
 * ("female" for "Female") is always suggested first; otherwise the closest candidate within
 * one edit for words of up to 3 characters, else max(2, ⌊len/3⌋) edits, ties broken by the candidates' order (callers list the most frequent first).
 */

/** Optimal-string-alignment distance between a and b (case-sensitive; callers lower-case). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev2 = new Int32Array(b.length + 1);
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
    }
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[b.length];
}

/** The candidate `word` most likely meant, or undefined when none is close enough. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const caseOnly = candidates.find((c) => c.toLowerCase() === w);
  if (caseOnly !== undefined) return caseOnly;
  const limit = w.length <= 3 ? 1 : Math.max(2, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    // The length difference is a lower bound on the distance: skip hopeless candidates cheaply.
    if (Math.abs(c.length - w.length) >= bestDistance) continue;
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined || w.length < 3) return best;
  // A part of a longer name ("glucose" for "avg glucose"), when only one candidate contains it.
  const containing = candidates.filter((c) => c.toLowerCase().includes(w));
  return containing.length === 1 ? containing[0] : undefined;
}

/** ` (did you mean "x"?)` or "" — for appending to a message. */
export function suggestionText(word: string, candidates: readonly string[]): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? "" : `; did you mean ${JSON.stringify(s)}?`;
}
