// Retrying a server: 429 (too many requests), 5xx and network failures are worth another try
// after a pause; any other 4xx (a bad request, a wrong model name, a refused key) is not.
import { AbortError, type AlignerEngine, type GenerateOptions, type GenerateResult, type Prompt } from '../../model/engine';
import { RemoteEngine, RemoteEngineError } from '../../model/remote-engine';
import { networkReason } from './errors';

export interface RetryPolicy {
  /** Tries after the first one. */
  retries: number;
  /** The first pause; each retry doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured as given (a server asking for an hour is capped). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 5, baseDelayMs: 1000, maxDelayMs: 60_000, maxRetryAfterMs: 300_000 };

/** 429, 5xx, or no HTTP status at all (the connection failed, stalled or broke mid-stream). */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof RemoteEngineError)) return false;
  if (error.status === undefined) return true;
  return error.status === 429 || error.status >= 500;
}

/** Retry-After in milliseconds: seconds (`120`) or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * The pause before retry `attempt` (1 for the first retry): the server's Retry-After when it gave
 * one (plus up to 10 % jitter, so clients told the same moment do not all return at once), else
 * exponential backoff with "equal jitter": half the doubled delay fixed, half random.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, retryAfterMs: number | null, random: () => number = Math.random): number {
  if (retryAfterMs !== null) {
    const wanted = Math.min(retryAfterMs, policy.maxRetryAfterMs);
    return Math.round(wanted + wanted * 0.1 * random());
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface RetryNotice {
  error: Error;
  attempt: number;
  of: number;
  delayMs: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A RemoteEngine that retries each generate call by the policy. It owns its RemoteEngine and the
 * fetch under it, so it can read the Retry-After header of the response that failed; one
 * instance serves one request at a time (the CLI gives each concurrent slot its own).
 */
export class RetryingRemoteEngine implements AlignerEngine {
  readonly device = 'remote' as const;
  private readonly inner: RemoteEngine;
  private lastRetryAfter: string | null = null;
  /** Why the last fetch failed before any response ("connection refused, ECONNREFUSED"). */
  private lastNetworkReason: string | null = null;
  /** Whether the last call got a response (a later failure broke the stream, not the connection). */
  private responded = false;
  /** Set per call by whoever owns the slot: where retry notices go. */
  onRetry?: (notice: RetryNotice) => void;

  constructor(
    config: ConstructorParameters<typeof RemoteEngine>[0],
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly random: () => number = Math.random,
  ) {
    this.inner = new RemoteEngine(config, async (input, init) => {
      let response: Response;
      try {
        response = await fetchImpl(input, init);
      } catch (error) {
        this.lastNetworkReason = networkReason(error);
        throw error;
      }
      this.responded = true;
      this.lastRetryAfter = response.ok ? null : response.headers.get('retry-after');
      return response;
    });
  }

  get host(): string {
    return this.inner.host;
  }

  countPromptTokens(prompt: Prompt): Promise<number> {
    return this.inner.countPromptTokens(prompt);
  }

  async generate(prompt: Prompt, options: GenerateOptions): Promise<GenerateResult> {
    for (let attempt = 1; ; attempt++) {
      this.lastRetryAfter = null;
      this.lastNetworkReason = null;
      this.responded = false;
      try {
        return await this.inner.generate(prompt, options);
      } catch (raw) {
        const error = this.plainWords(raw);
        if (attempt > this.policy.retries || !isRetryable(error) || options.signal?.aborted) throw error;
        // Servers send Retry-After with 429 and 503 (vLLM behind a proxy, LiteLLM, hosted APIs).
        const retryAfter = parseRetryAfter(this.lastRetryAfter);
        const delayMs = retryDelayMs(attempt, this.policy, retryAfter, this.random);
        this.onRetry?.({ error, attempt, of: this.policy.retries, delayMs });
        await sleep(delayMs, options.signal);
      }
    }
  }

  async listModels(): Promise<string[]> {
    this.lastNetworkReason = null;
    this.responded = false;
    try {
      return await this.inner.listModels();
    } catch (error) {
      throw this.plainWords(error);
    }
  }

  /**
   * The engine's words are written for the extension (they mention CORS); from the command line
   * a failed connection is said with its reason and the address it tried.
   */
  private plainWords(error: unknown): Error {
    if (!(error instanceof RemoteEngineError) || error.status !== undefined || !error.message.startsWith('Could not reach')) return error as Error;
    const detail = /\(([^()]*)\)$/.exec(error.message)?.[1] ?? 'unknown reason';
    if (this.lastNetworkReason === null && this.responded) return new RemoteEngineError(`The connection to ${this.host} broke during the answer (${detail}).`);
    const reason = this.lastNetworkReason ?? detail;
    return new RemoteEngineError(`Could not reach ${this.host} (${reason}): is the server running, and is --endpoint right?`);
  }

  async dispose(): Promise<void> {
    await this.inner.dispose();
  }
}
