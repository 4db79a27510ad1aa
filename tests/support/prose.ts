// Deterministic generator of chatbot-like prose and of "corrections" of it, shared by the diff
// tests and tests/bench/diff.bench.ts.

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a an of to in and or but is are was be can will should may it this that these those with for on ' +
  'model answer user question data function value result method system process example important note ' +
  'however therefore because while when where which first second finally also often usually always never ' +
  'quickly carefully simple complex safe harmful helpful accurate correct wrong better worse large small ' +
  'code browser server request response error memory token sentence paragraph word list table version ' +
  'install configure run test check build deploy update remove create return call use make take give ' +
  'people health risk advice doctor law policy energy water food climate history science language ' +
  "don't it's you're we've well-known step-by-step 3.14 42 1,000 2024 e.g. i.e."
).split(' ');

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

function sentence(rnd: () => number): string {
  const n = 6 + Math.floor(rnd() * 18);
  const ws: string[] = [];
  for (let i = 0; i < n; i++) {
    let w = pick(rnd, WORDS);
    if (i === 0) w = w[0].toUpperCase() + w.slice(1);
    if (i > 2 && i < n - 1 && rnd() < 0.08) w += ',';
    ws.push(w);
  }
  return ws.join(' ') + pick(rnd, ['.', '.', '.', '!', '?', ':']);
}

/** Multi-paragraph Markdown-ish prose of about `bytes` characters (paragraphs, lists, some code). */
export function generateAnswer(rnd: () => number, bytes: number): string {
  const paras: string[] = [];
  let len = 0;
  while (len < bytes) {
    const r = rnd();
    let p: string;
    if (r < 0.15) {
      const items: string[] = [];
      const n = 2 + Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) items.push(`${rnd() < 0.5 ? '-' : `${i + 1}.`} ${sentence(rnd)}`);
      p = items.join('\n');
    } else if (r < 0.2) {
      p = '```js\nconst value = run(' + Math.floor(rnd() * 100) + ');\nreturn value;\n```';
    } else if (r < 0.25) {
      p = '## ' + sentence(rnd).slice(0, -1);
    } else {
      const n = 2 + Math.floor(rnd() * 5);
      const ss: string[] = [];
      for (let i = 0; i < n; i++) ss.push(sentence(rnd));
      p = ss.join(' ');
    }
    paras.push(p);
    len += p.length + 2;
  }
  return paras.join('\n\n').slice(0, Math.max(bytes, 1));
}

/**
 * Rewrites about `fraction` of the words of `text`: replacements (60 %), deletions (20 %) and
 * insertions (20 %), keeping the whitespace between words.
 */
export function editWords(rnd: () => number, text: string, fraction: number): string {
  const parts = text.split(/(\s+)/);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i % 2 === 1 || p === '' || rnd() >= fraction) {
      out.push(p);
      continue;
    }
    const r = rnd();
    if (r < 0.6) out.push(pick(rnd, WORDS));
    else if (r < 0.8) out.push('');
    else out.push(p + ' ' + pick(rnd, WORDS));
  }
  return out.join('');
}
