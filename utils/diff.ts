import { diffArrays } from 'diff';

/**
 * One run of a word diff. Joining the `same` + `removed` parts gives the original text
 * exactly; joining the `same` + `added` parts gives the corrected text exactly.
 */
export type DiffPart = { kind: 'same' | 'added' | 'removed'; text: string };

export type DiffOptions = {
  /** Total time allowed for the word-level work; past it, changed blocks are shown whole. Default 50 ms. */
  timeBudgetMs?: number;
};

const DEFAULT_BUDGET_MS = 50;
/** Block pairs whose word overlap (Dice coefficient) is below this are not aligned with each other. */
const MIN_SIMILARITY = 0.3;
/** Above this many cells the block alignment table is not built (the hunk is word-diffed whole, under the time bound). */
const MAX_ALIGN_CELLS = 1_000_000;
/** Word segments up to this many token pairs are diffed with an LCS table; larger ones with jsdiff (Myers). */
const MAX_TABLE_CELLS = 250_000;

const now: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? () => performance.now()
    : () => Date.now();

// ---------------------------------------------------------------------------------------------
// Tokenising
// ---------------------------------------------------------------------------------------------

/** Scripts written without spaces between words: segmented with Intl.Segmenter, else per character. */
const NO_SPACE = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Thai}\\p{sc=Lao}\\p{sc=Khmer}\\p{sc=Myanmar}\\u30FC\\u3005\\u3006';
const WORD_CHAR = `(?:(?![${NO_SPACE}])[\\p{L}\\p{M}\\p{N}_])`;
// Order matters: whitespace, a run of a space-less script, a word (with inner ' ’ - and digit
// separators as in 3.14 or 1,000), a grapheme-ish unit (emoji with modifiers / ZWJ sequences,
// flags, a punctuation mark with its combining marks), and finally any single code point.
const TOKEN_SOURCE =
  `(\\s+)|([${NO_SPACE}]+)|` +
  `(${WORD_CHAR}+(?:(?:['\u2019\\-]|(?<=\\p{N})[.,:](?=\\p{N}))${WORD_CHAR}+)*)|` +
  `\\p{RI}\\p{RI}|` +
  `\\S[\\p{M}\\uFE0F\\u{1F3FB}-\\u{1F3FF}\\u{E0020}-\\u{E007F}]*(?:\\u200D\\S[\\p{M}\\uFE0F\\u{1F3FB}-\\u{1F3FF}]*)*|` +
  `[^]`;

let tokenRe: RegExp | undefined;
type WordSegmenter = { segment(s: string): Iterable<{ segment: string }> };
let segmenter: WordSegmenter | null | undefined;

function getSegmenter(): typeof segmenter {
  if (segmenter === undefined) {
    segmenter = null;
    try {
      const Seg = (Intl as unknown as { Segmenter?: new (l?: string, o?: object) => WordSegmenter }).Segmenter;
      if (typeof Seg === 'function') segmenter = new Seg(undefined, { granularity: 'word' });
    } catch {
      segmenter = null;
    }
  }
  return segmenter;
}

/**
 * Test seam: `false` forces the no-Intl.Segmenter fallback (per-character CJK), `true` restores
 * Intl.Segmenter, and an object stands in for it (to see what it is asked to segment).
 */
export function _setSegmenterForTests(enabled: boolean | WordSegmenter): void {
  segmenter = enabled === true ? undefined : enabled === false ? null : enabled;
}

/**
 * Intl.Segmenter's word breaking is quadratic in the length of one run of a space-less script
 * (60 KB of Chinese: ~1 s in Node), so long runs are segmented in windows of WINDOW_MIN to
 * WINDOW_MAX characters. A window ends where the content says (after the pair of characters
 * with the smallest hash in its range), not at a fixed offset, so an edit early in a run does
 * not shift every later cut: both texts of a diff are cut at the same places after the edit.
 */
const WINDOW_MAX = 256;
const WINDOW_MIN = 32;

/** Where the window that starts at `start` ends: content-defined, never inside a surrogate pair. */
function windowEnd(run: string, start: number): number {
  if (run.length - start <= WINDOW_MAX) return run.length;
  let best = -1;
  let bestHash = Infinity;
  for (let k = start + WINDOW_MIN; k <= start + WINDOW_MAX; k++) {
    const before = run.charCodeAt(k - 1);
    if (before >= 0xd800 && before <= 0xdbff) continue;
    const hash = Math.imul(Math.imul(run.charCodeAt(k - 2), 0x01000193) ^ before, 0x9e3779b1) >>> 0;
    if (hash < bestHash) {
      bestHash = hash;
      best = k;
    }
  }
  return best === -1 ? start + WINDOW_MAX + 1 : best;
}

/** Segments one run of a space-less script into words, window by window. False when past the deadline. */
function segmentRun(run: string, out: string[], deadline: number): boolean {
  const seg = getSegmenter();
  if (!seg) {
    for (const ch of run) out.push(ch);
    return true;
  }
  let start = 0;
  while (start < run.length) {
    if (now() > deadline) return false;
    const end = windowEnd(run, start);
    for (const s of seg.segment(run.slice(start, end))) out.push(s.segment);
    start = end;
  }
  return true;
}

/** Regex matches between two looks at the clock while tokenising. */
const CLOCK_EVERY = 1024;

/** tokenize, or null once past `deadline` (a performance.now() time). Linear in the text's length. */
function tokenizeWithin(text: string, deadline: number): string[] | null {
  const re = (tokenRe ??= new RegExp(TOKEN_SOURCE, 'gu'));
  re.lastIndex = 0;
  const out: string[] = [];
  let m: RegExpExecArray | null;
  let matches = 0;
  while ((m = re.exec(text)) !== null) {
    if (m[2] !== undefined) {
      if (!segmentRun(m[2], out, deadline)) return null;
    } else out.push(m[0]);
    if (++matches % CLOCK_EVERY === 0 && now() > deadline) return null;
  }
  return out;
}

/**
 * Splits text into diff tokens: whitespace runs, words, single punctuation marks, emoji
 * (never splitting surrogate pairs), and words of space-less scripts. The tokens join to the
 * input exactly. Linear in the text's length (long runs of a space-less script are segmented in
 * windows).
 */
export function tokenize(text: string): string[] {
  return tokenizeWithin(text, Infinity)!;
}

/** JavaScript's `\s`, by code unit: tab, line breaks, space, no-break space and the Unicode spaces. */
function isSpaceCode(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
const isSpace = (c: string): boolean => isSpaceCode(c.charCodeAt(0));
/** . ! ? … */
const isLatinEnd = (code: number): boolean => code === 46 || code === 33 || code === 63 || code === 0x2026;
/** What may follow a sentence end before the space: more marks, quotes, brackets, emphasis. */
const isCloser = (code: number): boolean =>
  isLatinEnd(code) || code === 34 || code === 39 || code === 0x201d || code === 0x2019 || code === 41 || code === 93 || code === 42 || code === 95;
/** 。！？ */
const isCjkEnd = (code: number): boolean => code === 0x3002 || code === 0xff01 || code === 0xff1f;
const isCjkCloser = (code: number): boolean =>
  isCjkEnd(code) || code === 0x300d || code === 0x300f || code === 0xff09 || code === 34 || code === 0x201d;

/**
 * Splits text into blocks (sentences and lines), each with its trailing whitespace. The blocks
 * join to the input exactly. One pass over character codes (1 MB in a few milliseconds).
 */
export function splitBlocks(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let start = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    let end = -1;
    if (c === 10) {
      end = i + 1;
    } else if (isLatinEnd(c)) {
      let j = i + 1;
      while (j < n && isCloser(text.charCodeAt(j))) j++;
      if (j === n || isSpaceCode(text.charCodeAt(j))) end = j;
      else i = j - 1;
    } else if (isCjkEnd(c)) {
      let j = i + 1;
      while (j < n && isCjkCloser(text.charCodeAt(j))) j++;
      end = j;
    }
    if (end >= 0) {
      let j = end;
      while (j < n && isSpaceCode(text.charCodeAt(j))) j++;
      out.push(text.slice(start, j));
      start = j;
      i = j;
    } else {
      i++;
    }
  }
  if (start < n) out.push(text.slice(start));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output building
// ---------------------------------------------------------------------------------------------

type Kind = DiffPart['kind'];

class Builder {
  readonly parts: DiffPart[] = [];
  push(kind: Kind, text: string): void {
    if (!text) return;
    const last = this.parts[this.parts.length - 1];
    if (last && last.kind === kind) last.text += text;
    else this.parts.push({ kind, text });
  }
}

type Run = { kind: Kind; items: string[] };

function pushRun(runs: Run[], kind: Kind, items: string[]): void {
  if (items.length === 0) return;
  const last = runs[runs.length - 1];
  if (last && last.kind === kind) for (const t of items) last.items.push(t);
  else runs.push({ kind, items });
}

/**
 * Longest-common-subsequence diff of two short sequences by dynamic programming over interned
 * ids, preferring removals before additions. On short inputs this is much faster than jsdiff's
 * general Myers search (which allocates per step).
 */
function tableDiff(a: string[], b: string[], runs: Run[]): void {
  const n = a.length;
  const m = b.length;
  const ids = new Map<string, number>();
  const x = new Int32Array(n);
  const y = new Int32Array(m);
  for (let i = 0; i < n; i++) {
    let id = ids.get(a[i]);
    if (id === undefined) ids.set(a[i], (id = ids.size));
    x[i] = id;
  }
  for (let j = 0; j < m; j++) y[j] = ids.get(b[j]) ?? -1;
  // lcs[i * w + j] = length of the LCS of a[i..] and b[j..]
  const w = m + 1;
  const lcs = new Int32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    const xi = x[i];
    const row = i * w;
    for (let j = m - 1; j >= 0; j--) {
      const down = lcs[row + w + j];
      const right = lcs[row + j + 1];
      lcs[row + j] = xi === y[j] ? lcs[row + w + j + 1] + 1 : down >= right ? down : right;
    }
  }
  let i = 0;
  let j = 0;
  let kind: Kind = 'same';
  let items: string[] = [];
  const emit = (k: Kind, t: string): void => {
    if (k !== kind) {
      pushRun(runs, kind, items);
      kind = k;
      items = [];
    }
    items.push(t);
  };
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      emit('same', a[i++]);
      j++;
    } else if (j === m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
      emit('removed', a[i++]);
    } else {
      emit('added', b[j++]);
    }
  }
  pushRun(runs, kind, items);
}

/**
 * Diffs two sequences (tokens or blocks): common prefix and suffix first, then an LCS table when
 * small, else jsdiff's diffArrays bounded by the deadline. Returns undefined when out of time.
 */
function diffSeq(a: string[], b: string[], deadline: number): Run[] | undefined {
  let pre = 0;
  const lim = Math.min(a.length, b.length);
  while (pre < lim && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < lim - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const runs: Run[] = [];
  pushRun(runs, 'same', a.slice(0, pre));
  const midA = a.slice(pre, a.length - suf);
  const midB = b.slice(pre, b.length - suf);
  if (midA.length === 0 || midB.length === 0) {
    pushRun(runs, 'removed', midA);
    pushRun(runs, 'added', midB);
  } else {
    const left = deadline - now();
    if (left <= 0) return undefined;
    if (midA.length * midB.length <= MAX_TABLE_CELLS) {
      tableDiff(midA, midB, runs);
    } else {
      const changes = diffArrays(midA, midB, { timeout: Math.max(1, Math.floor(left)) });
      if (!changes) return undefined;
      for (const ch of changes) pushRun(runs, ch.added ? 'added' : ch.removed ? 'removed' : 'same', ch.value);
    }
  }
  pushRun(runs, 'same', a.slice(a.length - suf));
  return runs;
}

/** Word-diffs `a` against `b` (already tokenised) into the builder, or shows them whole when out of time. */
function wordDiff(a: string[], b: string[], out: Builder, deadline: number): void {
  const runs = diffSeq(a, b, deadline);
  if (runs) for (const r of runs) out.push(r.kind, r.items.join(''));
  else coarse(a.join(''), b.join(''), out);
}

/** The exact fallback: a common prefix up to a word boundary, then the rest removed and added whole. */
function coarse(a: string, b: string, out: Builder): void {
  let p = 0;
  const lim = Math.min(a.length, b.length);
  while (p < lim && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  // Back up to a word boundary (which never splits a word or a surrogate pair).
  if (p < a.length || p < b.length) while (p > 0 && !isSpace(a[p - 1])) p--;
  out.push('same', a.slice(0, p));
  out.push('removed', a.slice(p));
  out.push('added', b.slice(p));
}

const SENTENCE_MARKS = '.!?:;\u3002\uff01\uff1f';
const isBlank = (c: string): boolean => c !== '\n' && isSpace(c);

/**
 * An equality that may be folded into the changes around it: spaces, or one word with its spaces
 * (no line break, no sentence mark). One scan: a regex for the same shape backtracked
 * quadratically on a long run of spaces (30,000 spaces: 1.4 s).
 */
export function isFoldable(text: string): boolean {
  let i = 0;
  while (i < text.length && isBlank(text[i])) i++;
  while (i < text.length && !isSpace(text[i]) && !SENTENCE_MARKS.includes(text[i])) i++;
  while (i < text.length && isBlank(text[i])) i++;
  return i === text.length;
}

/**
 * Makes the diff read well: short equalities between two changes (a space, a lone word) are
 * folded into the change around them, and every change reads removed-then-added. Joined
 * same+removed and same+added texts are unchanged.
 */
function tidy(parts: DiffPart[]): DiffPart[] {
  type Item = { same: string } | { rem: string; add: string };
  const stack: Item[] = [];
  const size = (c: { rem: string; add: string }) => Math.max(c.rem.length, c.add.length);
  for (const p of parts) {
    let item: Item;
    if (p.kind === 'same') item = { same: p.text };
    else {
      const top = stack[stack.length - 1];
      if (top && !('same' in top)) {
        if (p.kind === 'removed') top.rem += p.text;
        else top.add += p.text;
        continue;
      }
      item = p.kind === 'removed' ? { rem: p.text, add: '' } : { rem: '', add: p.text };
    }
    stack.push(item);
    // Fold `change, same, change` when the middle equality is only whitespace, or one short
    // word between two bigger changes (never a line or sentence break).
    while (stack.length >= 3) {
      const c2 = stack[stack.length - 1];
      const s = stack[stack.length - 2];
      const c1 = stack[stack.length - 3];
      if ('same' in c2 || !('same' in s) || 'same' in c1) break;
      const eq = s.same;
      if (!isFoldable(eq) || (/\S/.test(eq) && eq.length >= Math.min(size(c1), size(c2)))) break;
      stack.length -= 2;
      c1.rem += eq + c2.rem;
      c1.add += eq + c2.add;
    }
  }
  const out: DiffPart[] = [];
  for (const it of stack) {
    if ('same' in it) {
      if (it.same) out.push({ kind: 'same', text: it.same });
    } else {
      if (it.rem) out.push({ kind: 'removed', text: it.rem });
      if (it.add) out.push({ kind: 'added', text: it.add });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Block alignment inside a changed hunk
// ---------------------------------------------------------------------------------------------

type Block = { tokens: string[]; words: Int32Array };

/** A block's tokens and word ids, or null once past the deadline. */
function makeBlock(text: string, ids: Map<string, number>, deadline: number): Block | null {
  const tokens = tokenizeWithin(text, deadline);
  if (!tokens) return null;
  const words: number[] = [];
  for (const t of tokens) {
    if (isSpace(t[0])) continue;
    const key = t.toLowerCase();
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    words.push(id);
  }
  const sorted = Int32Array.from(words).sort();
  // Deduplicate in place.
  let u = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[u++] = sorted[i];
  return { tokens, words: sorted.subarray(0, u) };
}

/** Dice coefficient of two sorted sets of word ids. */
function similarity(a: Int32Array, b: Int32Array): number {
  const total = a.length + b.length;
  if (total === 0) return 1;
  let common = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      common++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return (2 * common) / total;
}

/**
 * Aligns removed blocks with added blocks (monotone, maximum total similarity) and returns
 * anchor pairs [i, j].
 */
function alignBlocks(a: Block[], b: Block[], deadline: number): Array<[number, number]> | null {
  const k = a.length;
  const m = b.length;
  if (k * m > MAX_ALIGN_CELLS) return null;
  // Search near the proportional diagonal only: wide enough for the length difference to sit in one place.
  const band = 16 + Math.ceil(Math.abs(k - m) / 2);
  const w = m + 1;
  const score = new Float64Array((k + 1) * w);
  // move: 0 = up (skip a), 1 = left (skip b), 2 = diagonal (match)
  const move = new Uint8Array((k + 1) * w);
  for (let i = 1; i <= k; i++) {
    if ((i & 31) === 0 && now() > deadline) return null;
    const centre = (i * m) / k;
    for (let j = 1; j <= m; j++) {
      const idx = i * w + j;
      const up = score[idx - w];
      const left = score[idx - 1];
      let best = up;
      let mv = 0;
      if (left > best) {
        best = left;
        mv = 1;
      }
      if (Math.abs(j - centre) <= band) {
        const s = similarity(a[i - 1].words, b[j - 1].words);
        if (s >= MIN_SIMILARITY && score[idx - w - 1] + s > best) {
          best = score[idx - w - 1] + s;
          mv = 2;
        }
      }
      score[idx] = best;
      move[idx] = mv;
    }
  }
  const anchors: Array<[number, number]> = [];
  let i = k;
  let j = m;
  while (i > 0 && j > 0) {
    const mv = move[i * w + j];
    if (mv === 2) {
      anchors.push([i - 1, j - 1]);
      i--;
      j--;
    } else if (mv === 1) j--;
    else i--;
  }
  return anchors.reverse();
}

function concatTokens(blocks: Block[], from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) for (const t of blocks[i].tokens) out.push(t);
  return out;
}

function diffHunk(removed: string[], added: string[], out: Builder, deadline: number): void {
  if (removed.length === 0 || added.length === 0 || now() > deadline) {
    coarse(removed.join(''), added.join(''), out);
    return;
  }
  const ids = new Map<string, number>();
  const a: Block[] = [];
  const b: Block[] = [];
  // Tokenising is work too: out of time, the hunk is shown whole.
  for (const [texts, blocks] of [[removed, a], [added, b]] as const) {
    for (const text of texts) {
      const block = now() > deadline ? null : makeBlock(text, ids, deadline);
      if (!block) return coarse(removed.join(''), added.join(''), out);
      blocks.push(block);
    }
  }
  const anchors = a.length === 1 || b.length === 1 ? null : alignBlocks(a, b, deadline);
  if (!anchors) {
    wordDiff(concatTokens(a, 0, a.length), concatTokens(b, 0, b.length), out, deadline);
    return;
  }
  // Each unaligned block goes with the aligned pair before or after it, whichever it resembles
  // more (a sentence split in two, or merged, stays in one word diff); the hunk is cut between.
  let pi = 0;
  let pj = 0;
  for (let p = 0; p + 1 < anchors.length; p++) {
    const [ai, bj] = anchors[p];
    const [ci, dj] = anchors[p + 1];
    let cutI = ai + 1;
    while (cutI < ci && similarity(a[cutI].words, b[bj].words) >= similarity(a[cutI].words, b[dj].words)) cutI++;
    let cutJ = bj + 1;
    while (cutJ < dj && similarity(b[cutJ].words, a[ai].words) >= similarity(b[cutJ].words, a[ci].words)) cutJ++;
    wordDiff(concatTokens(a, pi, cutI), concatTokens(b, pj, cutJ), out, deadline);
    pi = cutI;
    pj = cutJ;
  }
  wordDiff(concatTokens(a, pi, a.length), concatTokens(b, pj, b.length), out, deadline);
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * A readable word-level diff of an answer and its correction. Blocks (sentences, lines) are
 * matched first, then words inside changed blocks, all within `timeBudgetMs` (default 50 ms);
 * past the budget, changed blocks are shown whole. Always exact: same+removed joins to
 * `original`, same+added joins to `corrected`.
 */
export function diffAnswer(original: string, corrected: string, options: DiffOptions = {}): DiffPart[] {
  if (original === corrected) return original ? [{ kind: 'same', text: original }] : [];
  if (!original) return [{ kind: 'added', text: corrected }];
  if (!corrected) return [{ kind: 'removed', text: original }];
  const budget = options.timeBudgetMs ?? DEFAULT_BUDGET_MS;
  const deadline = now() + Math.max(0, budget);
  const out = new Builder();

  const oldBlocks = splitBlocks(original);
  const newBlocks = splitBlocks(corrected);
  let i0 = 0;
  let j0 = 0;
  for (const [ai, bj] of uniqueAnchors(oldBlocks, newBlocks)) {
    diffGap(oldBlocks.slice(i0, ai), newBlocks.slice(j0, bj), out, deadline);
    out.push('same', oldBlocks[ai]);
    i0 = ai + 1;
    j0 = bj + 1;
  }
  diffGap(oldBlocks.slice(i0), newBlocks.slice(j0), out, deadline);
  return tidy(out.parts);
}

/**
 * Patience-style anchors: blocks that occur exactly once in each text, kept in an order that
 * increases on both sides (longest increasing subsequence). Repeated blocks (a code line, a
 * blank line) never anchor, so they cannot tie unrelated parts of the texts together.
 */
function uniqueAnchors(a: string[], b: string[]): Array<[number, number]> {
  const seen = new Map<string, [number, number, number]>(); // [count in a, index in a, count in b / index in b]
  a.forEach((t, i) => {
    const e = seen.get(t);
    if (e) e[0]++;
    else seen.set(t, [1, i, -1]);
  });
  const pairs: Array<[number, number]> = [];
  const bCount = new Map<string, number>();
  b.forEach((t) => bCount.set(t, (bCount.get(t) ?? 0) + 1));
  b.forEach((t, j) => {
    const e = seen.get(t);
    if (e && e[0] === 1 && bCount.get(t) === 1) pairs.push([e[1], j]);
  });
  pairs.sort((x, y) => x[0] - y[0]);
  // Longest increasing subsequence on the b index (patience sorting).
  const tails: number[] = [];
  const prev = new Int32Array(pairs.length).fill(-1);
  for (let k = 0; k < pairs.length; k++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]][1] < pairs[k][1]) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[k] = tails[lo - 1];
    tails[lo] = k;
  }
  const out: Array<[number, number]> = [];
  for (let k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = prev[k]) out.push(pairs[k]);
  return out.reverse();
}

/** Diffs the blocks between two anchors: equal leading and trailing blocks, then the changed middle. */
function diffGap(a: string[], b: string[], out: Builder, deadline: number): void {
  let pre = 0;
  const lim = Math.min(a.length, b.length);
  while (pre < lim && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < lim - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  out.push('same', a.slice(0, pre).join(''));
  if (pre < a.length - suf || pre < b.length - suf) {
    diffHunk(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf), out, deadline);
  }
  out.push('same', a.slice(a.length - suf).join(''));
}

/** Number of change hunks (a removal next to an addition counts once), for a "3 changes" label. */
export function countChanges(parts: DiffPart[]): number {
  let count = 0;
  let inChange = false;
  for (const p of parts) {
    if (!p.text) continue;
    const change = p.kind !== 'same';
    if (change && !inChange) count++;
    inChange = change;
  }
  return count;
}
