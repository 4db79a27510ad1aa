import type { RemoteModelConfig } from '../utils/messages';
import { AbortError, type AlignerEngine, type GenerateOptions, type GenerateResult, type Prompt } from './engine';
import { SseEventTooLargeError, SseParser } from './sse';

type RemoteConfig = RemoteModelConfig;

/**
 * `http://host:8000`, `http://host:8000/`, `http://host:8000/v1` all mean the same server. An
 * address with a user name or password in it is refused: it would travel in every request and
 * show up wherever the address is echoed; the API key field is the place for a secret.
 */
export function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    // Not the browser's message: Firefox's repeats the address, user:password@ included.
    throw new Error('The server address is not a valid URL (for example http://127.0.0.1:8000).');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The server address must start with http:// or https://');
  if (url.username || url.password) {
    throw new Error('The server address must not contain a user name or password (user:password@…): put the key in the API key field instead.');
  }
  return url.href.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/**
 * The text with the `user:password@` part of every URL in it taken out, for error messages that
 * repeat what a browser, a fetch implementation or a server said. One pass over the text.
 */
export function withoutCredentials(text: string): string {
  let out = '';
  let copiedUpTo = 0;
  let searchFrom = 0;
  for (;;) {
    const schemeEnd = text.indexOf('://', searchFrom);
    if (schemeEnd === -1) break;
    const authorityStart = schemeEnd + 3;
    let end = authorityStart;
    let lastAt = -1;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      // The authority ends at / ? # or whitespace (and at quotes or brackets, as URLs in prose do).
      if (c === 47 || c === 63 || c === 35 || c <= 32 || c === 34 || c === 39 || c === 41 || c === 62 || c === 93) break;
      if (c === 64) lastAt = end;
    }
    if (lastAt !== -1) {
      out += text.slice(copiedUpTo, authorityStart);
      copiedUpTo = lastAt + 1;
    }
    searchFrom = Math.max(end, authorityStart);
  }
  return out + text.slice(copiedUpTo);
}

const LOOPBACK_NAMES = new Set(['localhost', '[::1]']);

/** Whether a URL's hostname is this machine (requests to it never cross a network). */
function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  // URL writes every IPv4 form (127.1, 0x7f.0.0.1) as dotted decimal, and IPv4-mapped IPv6 as hex.
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return true;
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(name);
}

/**
 * A warning to show beside the remote settings when an API key would travel unencrypted: plain
 * http:// to a host other than this machine. Null when there is no key, the address is https://
 * or loopback, or the address is not valid (normaliseEndpoint says why).
 */
export function insecureKeyWarning(endpoint: string, apiKey: string): string | null {
  if (!apiKey.trim()) return null;
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || isLoopbackHostname(url.hostname)) return null;
  return `The API key would be sent unencrypted (http://) to ${url.host}: anyone on the way can read it. Use https:// for this server, or no key.`;
}

export class RemoteEngineError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'RemoteEngineError';
  }
}

/** Characters one streamed piece may add when the caller sets no character cap (a token is rarely over a dozen). */
export const MAX_CHARS_PER_PIECE = 64;
/** The slowest average a request may have before the overall deadline ends it: 5 tokens a second. */
export const DEADLINE_MS_PER_TOKEN = 200;
/** Error bodies and model lists are read up to this many characters. */
const MAX_SMALL_BODY_CHARS = 1 << 20;
/** What an error message repeats of a server's own words. */
const MAX_DETAIL_CHARS = 500;

/** No request holds the queue longer than this, whatever its budget (a person can always cancel sooner). */
export const MAX_DEADLINE_MS = 10 * 60_000;

/** The overall time one streamed request may take: the stall timeout for the first token, then 5 tokens a second, at most 10 minutes. */
export function requestDeadlineMs(timeoutMs: number, maxNewTokens: number): number {
  return Math.min(MAX_DEADLINE_MS, timeoutMs + maxNewTokens * DEADLINE_MS_PER_TOKEN);
}

function clip(text: string, max = MAX_DETAIL_CHARS): string {
  const safe = withoutCredentials(text);
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}

/** Reads a body as text up to `maxChars`, then stops reading (a hostile server can send gigabytes of "error"). */
async function readSmallBody(response: Response, maxChars = MAX_SMALL_BODY_CHARS): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
      if (text.length > maxChars) return text.slice(0, maxChars);
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

/** Cuts at `max` characters without splitting a surrogate pair. */
function cutAt(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * An OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, TGI) running the Aligner. The
 * raw template goes to /v1/completions exactly as rendered; `chat` prompts go to
 * /v1/chat/completions so the server applies the model's own chat template.
 *
 * Nothing a server sends can make a request unbounded: at most `maxNewTokens` streamed pieces and
 * `maxChars` characters are read (then the body is cancelled), each event is capped
 * (model/sse.ts), silence ends it after `timeoutMs`, and an overall deadline ends a server that
 * trickles. Redirects are never followed: answers and the key go only to the address entered.
 */
export class RemoteEngine implements AlignerEngine {
  readonly device = 'remote' as const;
  private readonly base: string;

  constructor(
    private readonly config: Pick<RemoteConfig, 'endpoint' | 'model' | 'apiKey' | 'timeoutMs'> & {
      /** Overall limit for one streamed request; default requestDeadlineMs(timeoutMs, maxNewTokens). */
      deadlineMs?: number;
    },
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {
    this.base = normaliseEndpoint(config.endpoint);
  }

  get host(): string {
    return new URL(this.base).host;
  }

  /** No tokenizer here: a conservative estimate (3 characters a token) keeps parts within context. */
  async countPromptTokens(prompt: Prompt): Promise<number> {
    const text = prompt.kind === 'text' ? prompt.text : prompt.messages.map((message) => message.content).join('\n');
    return Math.ceil(text.length / 3) + (prompt.kind === 'chat' ? 32 : 1);
  }

  /** The request body, exactly: greedy, streamed, the template's stop strings. */
  requestBody(prompt: Prompt, options: Pick<GenerateOptions, 'maxNewTokens' | 'stop'>): Record<string, unknown> {
    const common = {
      model: this.config.model,
      stream: true,
      temperature: 0,
      top_p: 1,
      max_tokens: options.maxNewTokens,
      ...(options.stop && options.stop.length > 0 ? { stop: options.stop } : {}),
    };
    return prompt.kind === 'text' ? { ...common, prompt: prompt.text } : { ...common, messages: prompt.messages };
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.config.apiKey) headers.Authorization = `Bearer ${this.config.apiKey}`;
    return headers;
  }

  /**
   * Every request goes through here. `redirect: 'manual'`: a redirect is never followed (the
   * prompt and the key would go to an address nobody entered) and, unlike `'error'`, it can be
   * told apart from a network failure to say so.
   */
  private async request(path: string, init: { method?: string; body?: string; signal: AbortSignal }): Promise<Response> {
    const response = await this.fetchImpl(`${this.base}${path}`, { ...init, headers: this.headers(), redirect: 'manual' });
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      void response.body?.cancel().catch(() => undefined);
      throw this.redirectError(response);
    }
    return response;
  }

  private redirectError(response: Response): RemoteEngineError {
    let target = '';
    const location = response.headers.get('location');
    if (location) {
      try {
        target = ` to ${new URL(location, this.base).host}`;
      } catch {
        /* an unreadable Location: say nothing of it */
      }
    }
    const status = response.status || undefined;
    return new RemoteEngineError(
      `${this.host} redirected the request${status ? ` (${status})` : ''}${target}. Realign does not follow redirects for the remote server, so answers and the API key go only to the address you entered: enter the server's final address instead.`,
      status,
    );
  }

  private unreachable(error: unknown): RemoteEngineError {
    const detail = clip(String(error instanceof Error ? error.message : error), 200);
    return new RemoteEngineError(
      `Could not reach ${this.host}: the server is down, the address is wrong, or it does not allow requests from the extension (CORS). (${detail})`,
    );
  }

  async generate(prompt: Prompt, options: GenerateOptions): Promise<GenerateResult> {
    const { signal, onText, maxNewTokens } = options;
    if (signal?.aborted) throw new AbortError();
    const maxChars = Math.min(options.maxChars ?? Infinity, Math.max(1, maxNewTokens) * MAX_CHARS_PER_PIECE);
    const deadlineMs = this.config.deadlineMs ?? requestDeadlineMs(this.config.timeoutMs, maxNewTokens);
    const path = prompt.kind === 'text' ? '/v1/completions' : '/v1/chat/completions';
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort);
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let bodyDone = false;
    // Stopping for any reason (a cancel, the stall timer, the deadline) cancels the body at once,
    // whatever the fetch implementation does with the signal.
    controller.signal.addEventListener('abort', () => {
      if (reader && !bodyDone) void reader.cancel().catch(() => undefined);
    });
    let ended: 'stalled' | 'deadline' | null = null;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const armStallTimer = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        ended ??= 'stalled';
        controller.abort();
      }, this.config.timeoutMs);
    };
    const deadlineTimer = setTimeout(() => {
      ended ??= 'deadline';
      controller.abort();
    }, deadlineMs);
    armStallTimer();
    try {
      const response = await this.request(path, { method: 'POST', body: JSON.stringify(this.requestBody(prompt, options)), signal: controller.signal });
      if (!response.ok) throw await this.httpError(response);
      if (!response.body) throw new RemoteEngineError(`${this.host} sent an empty response.`);
      reader = response.body.getReader();
      const parser = new SseParser();
      let text = '';
      let tokens = 0;
      let finished = false;
      let charLimitReached = false;
      const handle = (data: string) => {
        if (data.trim() === '[DONE]') {
          finished = true;
          return;
        }
        let event: { error?: { message?: string } | string; choices?: Array<{ text?: string; delta?: { content?: string } }> };
        try {
          event = JSON.parse(data);
        } catch {
          throw new RemoteEngineError(`${this.host} sent a malformed event: ${clip(data, 80)}`);
        }
        if (event.error) {
          const message = typeof event.error === 'string' ? event.error : event.error.message;
          throw new RemoteEngineError(`${this.host} reported an error: ${message ? clip(String(message)) : 'unknown error'}`);
        }
        const piece = event.choices?.[0]?.text ?? event.choices?.[0]?.delta?.content ?? '';
        if (typeof piece !== 'string' || !piece) return;
        text += piece;
        tokens += 1;
        if (text.length > maxChars) {
          // Past the cap: what came is cut there and the rest of the body is never read.
          charLimitReached = true;
          text = cutAt(text, maxChars);
          finished = true;
        }
        // The server's max_tokens, enforced here too: a server that ignores it is stopped.
        if (tokens >= maxNewTokens) finished = true;
        onText?.(text);
      };
      while (!finished) {
        const { value, done } = await reader.read();
        if (controller.signal.aborted) throw new AbortError();
        armStallTimer();
        if (done) {
          bodyDone = true;
          for (const data of parser.flush()) {
            handle(data);
            if (finished) break;
          }
          break;
        }
        let events: string[];
        try {
          events = parser.push(value);
        } catch (error) {
          if (error instanceof SseEventTooLargeError) throw new RemoteEngineError(`${this.host}: ${error.message} Stopped reading.`);
          throw error;
        }
        for (const data of events) {
          handle(data);
          if (finished) break;
        }
      }
      return { text, tokens, ...(charLimitReached ? { charLimitReached } : {}) };
    } catch (error) {
      if (signal?.aborted) throw new AbortError();
      if (ended === 'stalled') {
        throw new RemoteEngineError(`${this.host} stopped answering (nothing received for ${Math.round(this.config.timeoutMs / 1000)} s).`);
      }
      if (ended === 'deadline') {
        throw new RemoteEngineError(
          `${this.host} did not finish within ${Math.round(deadlineMs / 1000)} s (the limit for ${maxNewTokens} new tokens); the request was stopped.`,
        );
      }
      if (error instanceof RemoteEngineError) throw error;
      throw this.unreachable(error);
    } finally {
      clearTimeout(stallTimer);
      clearTimeout(deadlineTimer);
      signal?.removeEventListener('abort', abort);
      // Stopping for any reason (done, a cap, an error) releases the connection.
      if (reader && !bodyDone) void reader.cancel().catch(() => undefined);
    }
  }

  private async httpError(response: Response): Promise<RemoteEngineError> {
    let detail = '';
    try {
      const body = JSON.parse(await readSmallBody(response)) as { error?: { message?: string } | string; message?: string; detail?: string };
      const said = (typeof body.error === 'string' ? body.error : body.error?.message) ?? body.message ?? body.detail ?? '';
      detail = typeof said === 'string' ? said : JSON.stringify(said);
    } catch {
      /* not JSON: the status says enough */
    }
    const suffix = detail ? `: ${clip(detail)}` : '';
    if (response.status === 401 || response.status === 403) {
      return new RemoteEngineError(`${this.host} refused the request (${response.status}): check the API key${suffix}`, response.status);
    }
    if (response.status === 404) {
      return new RemoteEngineError(`${this.host} does not serve the model "${clip(this.config.model, 300)}" (404)${suffix}`, response.status);
    }
    return new RemoteEngineError(`${this.host} answered ${response.status}${suffix}`, response.status);
  }

  /** "Test connection": the served model ids, or an error that says what went wrong. */
  async listModels(): Promise<string[]> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.config.timeoutMs);
    try {
      let response: Response;
      try {
        response = await this.request('/v1/models', { signal: controller.signal });
      } catch (error) {
        if (error instanceof RemoteEngineError) throw error;
        throw this.unreachable(error);
      }
      if (!response.ok) throw await this.httpError(response);
      type ModelList = { data?: Array<{ id?: string } | null> } | null;
      let body = null as ModelList;
      try {
        body = JSON.parse(await readSmallBody(response)) as ModelList;
      } catch {
        if (timedOut) throw new RemoteEngineError(`${this.host} stopped answering (nothing received for ${Math.round(this.config.timeoutMs / 1000)} s).`);
      }
      if (!body || !Array.isArray(body.data)) throw new RemoteEngineError(`${this.host} did not answer like an OpenAI-compatible server (no model list).`);
      return body.data.map((entry) => clip(String(entry?.id ?? ''), 300)).filter(Boolean);
    } finally {
      clearTimeout(timer);
    }
  }

  async dispose(): Promise<void> {}
}
