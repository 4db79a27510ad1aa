/**
 * The engine's greedy decode loop, with speculative decoding from the answer being corrected:
 * each pass feeds the last chosen token plus a draft copied from the source (model/draft.ts),
 * accepts the longest prefix of the draft that greedy decoding would have chosen, plus the token
 * the model picks after it (the bonus token), and cuts the rejected rest from the KV cache. The
 * output is token for token what one token per pass gives (up to float rounding: a k-token pass
 * sums in another order, which can only flip a choice whose top-2 logit margin is tiny).
 *
 * How long a draft to verify is decided per pass from measurements (DraftSizer): the cost of a
 * pass as a function of its length, and how far drafts like this one were right before. Where a
 * draft would cost more than it is expected to save (nothing to copy, a compute-bound CPU), the
 * loop verifies none and is plain greedy decoding.
 */
import { proposeDraft, type Draft } from './draft';
import { AbortError } from './engine';
import type { Logits } from './step-model';

/** What the loop needs from a step model (StepModel implements it). */
export interface StepDecoder {
  readonly length: number;
  forward(tokens: readonly number[], keepRows?: number): Promise<Logits>;
  truncate(length: number): Promise<void>;
  reset(): void;
}

export type Drafter = (source: ArrayLike<number>, generated: ArrayLike<number>, maxDraft: number) => Draft | number[];

export interface GreedyOptions {
  /** The prompt's token ids, special tokens included. */
  prompt: readonly number[];
  /** What drafts are copied from (the answer being corrected); the prompt when absent. */
  source?: ArrayLike<number>;
  maxNewTokens: number;
  eosTokenIds?: readonly number[];
  /** Each new token, in order; return true to stop right after it (a stop string). */
  onToken?: (token: number) => boolean | void;
  signal?: AbortSignal;
  /** false: one token per pass, no drafts (plain greedy). Default true. */
  speculative?: boolean;
  /** Longest draft verified in one pass. */
  maxDraft?: number;
  /** Verify exactly this many draft tokens whenever the drafter has them (tests, benches). */
  fixedDraft?: number;
  drafter?: Drafter;
  /** Learned pass costs and acceptance, kept across calls (one per loaded model). */
  sizer?: DraftSizer;
  /** transformers.js's RepetitionPenaltyLogitsProcessor, applied the same way (1: none). */
  repetitionPenalty?: number;
  /** Record the top-2 logit margin behind each chosen token (tests). */
  recordMargins?: boolean;
  /** Yield to the event loop between passes at most this often (ms). */
  yieldIntervalMs?: number;
}

export interface GreedyStats {
  /** Forward passes, the prefill included. */
  passes: number;
  /** Draft tokens fed to the model, and those accepted. */
  drafted: number;
  accepted: number;
  prefillMs: number;
  decodeMs: number;
  stoppedBy: 'eos' | 'length' | 'stop';
}

export interface GreedyResult {
  /** The new tokens (an EOS token that ended generation included). */
  tokens: number[];
  stats: GreedyStats;
  /** With recordMargins: top-1 minus top-2 logit behind each token of `tokens`. */
  margins?: number[];
}

export const DEFAULT_MAX_DRAFT = 16;
/**
 * Yield to the event loop between passes at most this often, so streamed text and cancels get
 * through (WASM inference never leaves the task by itself), at almost no cost to fast models.
 */
const YIELD_INTERVAL_MS = 16;

export async function decodeGreedy(model: StepDecoder, options: GreedyOptions): Promise<GreedyResult> {
  const { prompt, maxNewTokens, signal, onToken } = options;
  const eos = new Set(options.eosTokenIds ?? []);
  const source = options.source ?? prompt;
  const maxDraft = Math.max(0, options.maxDraft ?? DEFAULT_MAX_DRAFT);
  const speculative = options.speculative !== false && maxDraft > 0;
  const drafter = options.drafter ?? proposeDraft;
  const sizer = options.sizer ?? new DraftSizer(maxDraft);
  const penalty = options.repetitionPenalty ?? 1;
  const seen = penalty !== 1 ? new Set<number>(prompt) : undefined;
  const chooser = new TokenChooser(penalty, seen);
  const margins: number[] | undefined = options.recordMargins ? [] : undefined;
  const stats: GreedyStats = { passes: 0, drafted: 0, accepted: 0, prefillMs: 0, decodeMs: 0, stoppedBy: 'length' };
  const tokens: number[] = [];
  const hindsight = new Hindsight(sizer);
  if (signal?.aborted) throw new AbortError();
  if (maxNewTokens <= 0 || prompt.length === 0) return { tokens, stats, margins };

  const yieldInterval = options.yieldIntervalMs ?? YIELD_INTERVAL_MS;
  let lastYield = performance.now();
  const started = performance.now();
  model.reset();
  const first = await model.forward(prompt, 1);
  stats.passes = 1;
  stats.prefillMs = performance.now() - started;
  let next = chooser.pick(first, 0, []);

  /** Appends a chosen token; false when generation ends with it. */
  const emit = (token: number, margin: number): boolean => {
    if (signal?.aborted) throw new AbortError();
    tokens.push(token);
    margins?.push(margin);
    seen?.add(token);
    if (eos.has(token)) {
      stats.stoppedBy = 'eos';
      return false;
    }
    if (onToken?.(token) === true) {
      stats.stoppedBy = 'stop';
      return false;
    }
    return tokens.length < maxNewTokens;
  };

  const decodeStarted = performance.now();
  try {
    while (emit(next.token, next.margin)) {
      const room = maxNewTokens - tokens.length - 1;
      let draft: number[] = [];
      if (speculative && room > 0) {
        const proposed = drafter(source, tokens, maxDraft);
        const candidate = Array.isArray(proposed) ? { tokens: proposed, copyRun: 0 } : proposed;
        const length = options.fixedDraft ?? sizer.choose(candidate.tokens.length, candidate.copyRun);
        draft = candidate.tokens.slice(0, Math.min(length, room));
        hindsight.watch(candidate, tokens.length);
      }
      const feed = [next.token, ...draft];
      const passStarted = performance.now();
      const logits = await model.forward(feed);
      stats.passes += 1;
      stats.drafted += draft.length;
      // Row i predicts the token after feed[i]: accept draft tokens while they are the choice.
      const acceptedMargins: number[] = [];
      let choice = chooser.pick(logits, 0, feed);
      while (acceptedMargins.length < draft.length && choice.token === draft[acceptedMargins.length]) {
        acceptedMargins.push(choice.margin);
        choice = chooser.pick(logits, acceptedMargins.length, feed);
      }
      const accepted = acceptedMargins.length;
      if (accepted < draft.length) await model.truncate(model.length - (draft.length - accepted));
      sizer.observeCost(feed.length, performance.now() - passStarted);
      stats.accepted += accepted;
      let open = true;
      for (let i = 0; i < accepted && open; i++) open = emit(draft[i]!, acceptedMargins[i]!);
      if (!open) break;
      hindsight.update(tokens, choice.token);
      next = choice;
      if (performance.now() - lastYield >= yieldInterval) {
        await yieldToEventLoop();
        lastYield = performance.now();
        if (signal?.aborted) throw new AbortError();
      }
    }
  } finally {
    stats.decodeMs = performance.now() - decodeStarted;
  }
  return { tokens, stats, margins };
}

/** Greedy choice per logits row, with transformers.js's repetition penalty when one is set. */
class TokenChooser {
  private scratch = new Float32Array(0);

  constructor(
    private readonly penalty: number,
    private readonly seen: Set<number> | undefined,
  ) {}

  /** The choice from row `row`; `feed[1..row]` count as already generated there. */
  pick(logits: Logits, row: number, feed: readonly number[]): { token: number; margin: number } {
    const values = this.row(logits, row, feed);
    let best = 0;
    let top = -Infinity;
    let second = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (value > top) {
        second = top;
        top = value;
        best = i;
      } else if (value > second) {
        second = value;
      }
    }
    return { token: best, margin: top - second };
  }

  private row(logits: Logits, row: number, feed: readonly number[]): Float32Array {
    const values = logits.data.subarray(row * logits.vocab, (row + 1) * logits.vocab);
    if (this.penalty === 1 || !this.seen) return values;
    if (this.scratch.length !== values.length) this.scratch = new Float32Array(values.length);
    this.scratch.set(values);
    const apply = (token: number) => {
      const value = this.scratch[token]!;
      this.scratch[token] = value < 0 ? value * this.penalty : value / this.penalty;
    };
    for (const token of this.seen) apply(token);
    const extra = new Set<number>();
    for (let i = 1; i <= row; i++) if (!this.seen.has(feed[i]!)) extra.add(feed[i]!);
    for (const token of extra) apply(token);
    return this.scratch;
  }
}

/**
 * How far each proposed draft turned out to be right, learned for free: every pass's candidate
 * draft (however little of it was verified) is compared with the tokens generation then chose.
 */
class Hindsight {
  private pending: Array<{ tokens: number[]; copyRun: number; at: number; matched: number }> = [];

  constructor(private readonly sizer: DraftSizer) {}

  /** A candidate proposed when `at` tokens had been generated. */
  watch(candidate: Draft, at: number): void {
    if (candidate.tokens.length === 0) return;
    this.pending.push({ tokens: candidate.tokens, copyRun: candidate.copyRun, at, matched: 0 });
  }

  /** `generated` so far, and the token chosen next (not yet in it). */
  update(generated: readonly number[], next: number): void {
    const known = generated.length + 1;
    const tokenAt = (i: number) => (i < generated.length ? generated[i]! : next);
    this.pending = this.pending.filter((entry) => {
      while (entry.matched < entry.tokens.length && entry.at + entry.matched < known) {
        if (tokenAt(entry.at + entry.matched) !== entry.tokens[entry.matched]) {
          this.sizer.observeMatch(entry.copyRun, entry.matched, entry.tokens.length);
          return false;
        }
        entry.matched += 1;
      }
      if (entry.matched === entry.tokens.length) {
        this.sizer.observeMatch(entry.copyRun, entry.matched, entry.tokens.length);
        return false;
      }
      return true;
    });
  }
}

/** Copy runs bucketed: deviating, just resumed, copying for a while, copying long. */
const RUN_BUCKETS = [0, 1, 4, 16];
const bucketOf = (copyRun: number) => {
  let bucket = 0;
  for (let b = 0; b < RUN_BUCKETS.length; b++) if (copyRun >= RUN_BUCKETS[b]!) bucket = b;
  return bucket;
};

/** A longer draft is tried after this many passes, when it is expected to pass this many tokens. */
const RETRY_INTERVAL = 8;
const RETRY_EXPECTED = 1.5;
/** Pass times kept per pass length: old ones drop out as the context grows. */
const COST_WINDOW = 9;
/** Samples a pass length needs before its median is trusted over a lone measurement. */
const SETTLED_SAMPLES = 3;
/** Older acceptance observations fade: the text being corrected changes. */
const MATCH_DECAY = 0.98;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
/** Before a slope is measured: each extra token costs this share of a one-token pass. */
const PRIOR_SLOPE = 0.25;

/**
 * Chooses draft lengths: the one that maximises expected tokens per unit of time, where a pass of
 * n tokens costs a + b·n (a line through the median measured time of each pass length) and a draft of k is expected to yield
 * 1 + Σ_{i≤k} P(the first i draft tokens are right), estimated per copy-run bucket from hindsight.
 */
export class DraftSizer {
  // Acceptance: per bucket, per draft position i (1-based), how often position i was reached
  // (the i−1 before it were right and the draft had an i-th token) and how often it was right.
  private readonly reached: Float64Array[];
  private readonly passed: Float64Array[];
  // Cost: the last few pass times for each pass length (medians shrug off GC pauses and
  // other tasks that land inside a pass), and a line fitted through those medians.
  private readonly recentCosts = new Map<number, number[]>();
  private passesSinceTry = 0;

  constructor(readonly maxDraft = DEFAULT_MAX_DRAFT) {
    this.reached = RUN_BUCKETS.map(() => new Float64Array(maxDraft + 2));
    this.passed = RUN_BUCKETS.map(() => new Float64Array(maxDraft + 2));
  }

  /** Draft tokens to verify, given a candidate of `available` tokens after a copy run. */
  choose(available: number, copyRun: number): number {
    const limit = Math.min(available, this.maxDraft);
    if (limit <= 0) return 0;
    const { a, b } = this.costLine();
    const bucket = bucketOf(copyRun);
    let best = 0;
    let bestRate = 1 / (a + b);
    let expected = 1;
    let survive = 1;
    const expectedAt: number[] = [1];
    for (let k = 1; k <= limit; k++) {
      survive *= this.passRate(bucket, k);
      expected += survive;
      expectedAt.push(expected);
      const rate = expected / (a + b * (k + 1));
      if (rate > bestRate) {
        bestRate = rate;
        best = k;
      }
    }
    // Pass times are only measured for lengths in use: a length judged too slow once (a pause, a
    // first run of a new shape) would never be tried again. Now and then, when drafts are likely
    // to be right (so the try pays for itself), verify a longer one to measure it afresh.
    this.passesSinceTry += 1;
    const longer = Math.min(limit, Math.max(2 * best, 4));
    if (longer > best && this.passesSinceTry >= RETRY_INTERVAL && expectedAt[longer]! - 1 >= RETRY_EXPECTED) {
      this.passesSinceTry = 0;
      return longer;
    }
    return best;
  }

  observeCost(tokens: number, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    let recent = this.recentCosts.get(tokens);
    if (!recent) {
      recent = [];
      this.recentCosts.set(tokens, recent);
    }
    recent.push(ms);
    if (recent.length > COST_WINDOW) recent.shift();
  }

  /** A candidate whose first `matched` tokens were right, out of `length`. */
  observeMatch(copyRun: number, matched: number, length: number): void {
    const bucket = bucketOf(copyRun);
    const reached = this.reached[bucket]!;
    const passed = this.passed[bucket]!;
    for (let i = 1; i < reached.length; i++) {
      reached[i]! *= MATCH_DECAY;
      passed[i]! *= MATCH_DECAY;
    }
    const top = Math.min(length, matched + 1, this.maxDraft);
    for (let i = 1; i <= top; i++) {
      reached[i]! += 1;
      if (i <= matched) passed[i]! += 1;
    }
  }

  /** The cost line (ms = a + b·tokens) through the median time of each pass length seen. */
  costLine(): { a: number; b: number } {
    let sw = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    // A length seen once or twice may have caught a pause: leave it out while better-measured
    // lengths can draw the line on their own.
    let settled = 0;
    for (const recent of this.recentCosts.values()) if (recent.length >= SETTLED_SAMPLES) settled += 1;
    let lengths = 0;
    for (const [tokens, recent] of this.recentCosts) {
      if (settled >= 2 && recent.length < SETTLED_SAMPLES) continue;
      lengths += 1;
      const y = median(recent);
      const weight = recent.length;
      sw += weight;
      sx += weight * tokens;
      sy += weight * y;
      sxx += weight * tokens * tokens;
      sxy += weight * tokens * y;
    }
    if (sw === 0) return { a: 1, b: PRIOR_SLOPE };
    const meanX = sx / sw;
    const meanY = sy / sw;
    const varX = sxx / sw - meanX * meanX;
    let b: number;
    if (lengths >= 2 && varX > 1e-9) {
      b = (sxy / sw - meanX * meanY) / varX;
    } else {
      b = (PRIOR_SLOPE * meanY) / (1 + PRIOR_SLOPE * (meanX - 1));
    }
    // A pass never gets cheaper with more tokens; and its fixed part is never negative.
    b = Math.max(b, 1e-6 * Math.max(meanY, 1e-6));
    const a = Math.max(meanY - b * meanX, 0.05 * b);
    return { a, b };
  }

  /** P(draft position i right | the ones before it right), with a weak prior of one half. */
  private passRate(bucket: number, i: number): number {
    return (this.passed[bucket]![i]! + 0.5) / (this.reached[bucket]![i]! + 1);
  }
}

/**
 * A new task via a message to ourselves: no setTimeout clamping, and (unlike scheduler.yield)
 * queued behind the messages already sent, which is the point.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
