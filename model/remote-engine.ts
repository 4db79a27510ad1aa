import type { RemoteModelConfig } from '../utils/messages';
import { AbortError, type AlignerEngine, type GenerateOptions, type GenerateResult, type Prompt } from './engine';
import { SseParser } from './sse';

type RemoteConfig = RemoteModelConfig;

/** `http://host:8000`, `http://host:8000/`, `http://host:8000/v1` all mean the same server. */
export function normaliseEndpoint(endpoint: string): string {
  const url = new URL(endpoint.trim());
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The server address must start with http:// or https://');
  return url.href.replace(/\/+$/, '').replace(/\/v1$/, '');
}

export class RemoteEngineError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'RemoteEngineError';
  }
}

/**
 * An OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, TGI) running the Aligner. The
 * raw template goes to /v1/completions exactly as rendered; `chat` prompts go to
 * /v1/chat/completions so the server applies the model's own chat template.
 */
export class RemoteEngine implements AlignerEngine {
  readonly device = 'remote' as const;
  private readonly base: string;

  constructor(private readonly config: Pick<RemoteConfig, 'endpoint' | 'model' | 'apiKey' | 'timeoutMs'>, private readonly fetchImpl: typeof fetch = (...args) => fetch(...args)) {
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

  async generate(prompt: Prompt, options: GenerateOptions): Promise<GenerateResult> {
    const { signal, onText } = options;
    if (signal?.aborted) throw new AbortError();
    const path = prompt.kind === 'text' ? '/v1/completions' : '/v1/chat/completions';
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener('abort', abort);
    let stalled = false;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const armStallTimer = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.config.timeoutMs);
    };
    armStallTimer();
    try {
      const response = await this.fetchImpl(`${this.base}${path}`, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify(this.requestBody(prompt, options)),
        signal: controller.signal,
      });
      if (!response.ok) throw await this.httpError(response);
      if (!response.body) throw new RemoteEngineError(`${this.host} sent an empty response.`);
      const reader = response.body.getReader();
      const parser = new SseParser();
      let text = '';
      let tokens = 0;
      let finished = false;
      const handle = (data: string) => {
        if (data.trim() === '[DONE]') {
          finished = true;
          return;
        }
        let event: { error?: { message?: string } | string; choices?: Array<{ text?: string; delta?: { content?: string } }> };
        try {
          event = JSON.parse(data);
        } catch {
          throw new RemoteEngineError(`${this.host} sent a malformed event: ${data.slice(0, 80)}`);
        }
        if (event.error) {
          const message = typeof event.error === 'string' ? event.error : event.error.message;
          throw new RemoteEngineError(`${this.host} reported an error: ${message ?? 'unknown error'}`);
        }
        const piece = event.choices?.[0]?.text ?? event.choices?.[0]?.delta?.content ?? '';
        if (piece) {
          text += piece;
          tokens += 1;
          onText?.(text);
        }
      };
      while (!finished) {
        const { value, done } = await reader.read();
        armStallTimer();
        if (done) {
          for (const data of parser.flush()) handle(data);
          break;
        }
        for (const data of parser.push(value)) {
          handle(data);
          if (finished) break;
        }
      }
      if (finished) void reader.cancel().catch(() => undefined);
      return { text, tokens };
    } catch (error) {
      if (signal?.aborted) throw new AbortError();
      if (stalled) {
        throw new RemoteEngineError(`${this.host} stopped answering (nothing received for ${Math.round(this.config.timeoutMs / 1000)} s).`);
      }
      if (error instanceof RemoteEngineError) throw error;
      throw new RemoteEngineError(
        `Could not reach ${this.host}: the server is down, the address is wrong, or it does not allow requests from the extension (CORS). (${String(error instanceof Error ? error.message : error)})`,
      );
    } finally {
      clearTimeout(stallTimer);
      signal?.removeEventListener('abort', abort);
    }
  }

  private async httpError(response: Response): Promise<RemoteEngineError> {
    let detail = '';
    try {
      const body = (await response.json()) as { error?: { message?: string } | string; message?: string; detail?: string };
      detail = (typeof body.error === 'string' ? body.error : body.error?.message) ?? body.message ?? body.detail ?? '';
    } catch {
      /* not JSON: the status says enough */
    }
    const suffix = detail ? `: ${detail}` : '';
    if (response.status === 401 || response.status === 403) {
      return new RemoteEngineError(`${this.host} refused the request (${response.status}): check the API key${suffix}`, response.status);
    }
    if (response.status === 404) {
      return new RemoteEngineError(`${this.host} does not serve the model "${this.config.model}" (404)${suffix}`, response.status);
    }
    return new RemoteEngineError(`${this.host} answered ${response.status}${suffix}`, response.status);
  }

  /** "Test connection": the served model ids, or an error that says what went wrong. */
  async listModels(): Promise<string[]> {
    let response: Response;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.timeoutMs);
    try {
      response = await this.fetchImpl(`${this.base}/v1/models`, { headers: this.headers(), signal: controller.signal });
    } catch (error) {
      throw new RemoteEngineError(
        `Could not reach ${this.host}: the server is down, the address is wrong, or it does not allow requests from the extension (CORS). (${String(error instanceof Error ? error.message : error)})`,
      );
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw await this.httpError(response);
    const body = (await response.json().catch(() => null)) as { data?: Array<{ id?: string }> } | null;
    if (!body || !Array.isArray(body.data)) throw new RemoteEngineError(`${this.host} did not answer like an OpenAI-compatible server (no model list).`);
    return body.data.map((entry) => String(entry.id ?? '')).filter(Boolean);
  }

  async dispose(): Promise<void> {}
}

/**
 * A warning when an API key would travel unencrypted: plain http to a host that is not this
 * machine. Null when there is no key, the address is https, or the server is on loopback.
 */
export function insecureKeyWarning(endpoint: string, apiKey: string): string | null {
  if (!apiKey) return null;
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:') return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return null;
  return `Your API key would be sent to ${url.host} over plain http, readable by anyone on the network between you. Use https, or a server on this machine.`;
}
