import { MAX_ANSWER_CHARS, parseCorrectionClientMessage, type CorrectionUpdate, type EngineJob } from '../../utils/protocol';
import type { EngineHostConnection, PortLike } from './host-client';
import { CorrectionQueue } from './queue';

interface Request {
  id: string;
  tabId: number;
  site: string;
  question: string;
  answer: string;
  port: PortLike;
  finished: boolean;
}

export interface CorrectionServiceOptions {
  host: EngineHostConnection;
  /** The model and limits from the current settings; throws a readable error when they are unusable. */
  jobSettings: () => Promise<Pick<EngineJob, 'model' | 'maxNewTokens'>>;
  isVisible: (tabId: number) => boolean;
  maxWaiting?: number;
  /** The download the person has not agreed to yet, or null (remote engine, approved, demo). */
  consentNeeded?: () => Promise<Extract<CorrectionUpdate, { kind: 'consent' }> | null>;
  /** Records the agreement for the model a consent update named. */
  approve?: (consent: Extract<CorrectionUpdate, { kind: 'consent' }>) => Promise<void>;
}

/**
 * The background's part of a correction: takes requests from tabs (one port each), queues them,
 * runs them on the engine host one at a time and streams updates back. A port that disconnects
 * (tab closed or navigated, panel dismissed) cancels its request.
 */
export class CorrectionService {
  private readonly queue: CorrectionQueue<Request>;
  private sequence = 0;

  constructor(private readonly options: CorrectionServiceOptions) {
    this.queue = new CorrectionQueue<Request>({
      maxWaiting: options.maxWaiting ?? 12,
      isVisible: options.isVisible,
      run: (request) => this.execute(request),
      onPosition: (request, position) => this.send(request, { kind: 'queued', position }),
      onDropped: (request) =>
        this.finish(request, {
          kind: 'error',
          message: 'Skipped: too many answers were waiting for a correction. Press Retry to queue this one again.',
        }),
    });
  }

  /** Wires one port from a content script; `tabId` comes from the port's verified sender. */
  handlePort(port: PortLike, tabId: number): void {
    let request: Request | null = null;
    let pendingConsent: Extract<CorrectionUpdate, { kind: 'consent' }> | null = null;
    port.onMessage.addListener((raw) => {
      const message = parseCorrectionClientMessage(raw);
      if (!message) {
        port.postMessage({ kind: 'error', message: 'Realign received a malformed request.' } satisfies CorrectionUpdate);
        return;
      }
      if (message.type === 'cancel') {
        if (request) this.cancel(request);
        return;
      }
      if (message.type === 'approve') {
        if (!request || !pendingConsent) return;
        const consent = pendingConsent;
        const approved = request;
        pendingConsent = null;
        void (this.options.approve?.(consent) ?? Promise.resolve()).then(() => this.queue.enqueue(approved));
        return;
      }
      if (request) return; // one request per port
      request = {
        id: `${tabId}:${++this.sequence}`,
        tabId,
        site: message.site,
        question: message.question,
        answer: message.answer,
        port,
        finished: false,
      };
      if (message.answer.length > MAX_ANSWER_CHARS) {
        this.finish(request, {
          kind: 'error',
          message: `This answer is too long to correct here (${Math.round(message.answer.length / 1000)} KB; the limit is ${MAX_ANSWER_CHARS / 1000} KB). Select a part of it and press the Realign shortcut.`,
        });
        return;
      }
      const current = request;
      void (this.options.consentNeeded?.() ?? Promise.resolve(null)).then((consent) => {
        if (current.finished) return;
        if (consent) {
          pendingConsent = consent;
          this.send(current, consent);
        } else {
          this.queue.enqueue(current);
        }
      });
    });
    port.onDisconnect.addListener(() => {
      if (!request) return;
      request.finished = true;
      this.cancel(request);
    });
  }

  /** A tab closed or navigated: its waiting requests go, its running one stops. */
  cancelTab(tabId: number): void {
    for (const request of this.queue.removeTab(tabId)) this.finish(request, { kind: 'error', message: 'The correction was cancelled.' });
    const running = this.queue.running;
    if (running && running.tabId === tabId) this.options.host.cancel(running.id);
  }

  get pending(): { running: number; waiting: number } {
    return { running: this.queue.running ? 1 : 0, waiting: this.queue.waitingCount };
  }

  private cancel(request: Request): void {
    if (this.queue.remove(request.id)) {
      this.finish(request, { kind: 'error', message: 'The correction was cancelled.' });
    } else if (this.queue.running?.id === request.id) {
      this.options.host.cancel(request.id);
    }
  }

  private async execute(request: Request): Promise<void> {
    if (request.finished) return;
    let settings: Pick<EngineJob, 'model' | 'maxNewTokens'>;
    try {
      settings = await this.options.jobSettings();
    } catch (error) {
      this.finish(request, { kind: 'error', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    const job: EngineJob = { question: request.question, answer: request.answer, ...settings };
    await this.options.host.run(request.id, job, (update) => {
      if (update.kind === 'done' || update.kind === 'error') this.finish(request, update);
      else this.send(request, update);
    });
  }

  private send(request: Request, update: CorrectionUpdate): void {
    if (request.finished) return;
    try {
      request.port.postMessage(update);
    } catch {
      // The tab went away between two updates; its disconnect handler cancels the job.
      request.finished = true;
    }
  }

  private finish(request: Request, update: CorrectionUpdate): void {
    this.send(request, update);
    request.finished = true;
  }
}
