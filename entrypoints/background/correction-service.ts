import type { EngineService } from '../../model/engine-service';
import { MAX_ANSWER_CHARS, tooLongMessage, type ConsentRequest, type CorrectionRequest, type CorrectionUpdate, type EngineJob } from '../../utils/messages';
import { CORRECTION_CHANNEL, serveTasks, type PortLike, type TaskContext } from '../../utils/task-port';
import { CorrectionQueue } from './queue';
import { messageOf } from '../../utils/errors';

interface Request {
  id: string;
  tabId: number;
  request: CorrectionRequest;
  /** Aborted by the tab (cancel, port closed) or by the background (tab closed). */
  controller: AbortController;
  task: TaskContext<unknown, CorrectionUpdate>;
}

export interface CorrectionServiceOptions {
  engine: EngineService;
  /** The model and limits from the current settings; throws a readable error when they are unusable. */
  jobSettings: () => Promise<Pick<EngineJob, 'model' | 'maxNewTokens'>>;
  isVisible: (tabId: number) => boolean;
  maxWaiting?: number;
  /** The download the person has not agreed to yet, or null (remote engine, approved, demo). */
  consentNeeded?: () => Promise<ConsentRequest | null>;
  /** Records the agreement for the model a consent update named. */
  approve?: (consent: ConsentRequest) => Promise<void>;
  /** Called when the number of running or waiting corrections changes. */
  onPending?: (pending: { running: number; waiting: number }) => void;
  /** A tab's correction starts or stops running (the toolbar badge). */
  onRunning?: (tabId: number, running: boolean) => void;
}

/**
 * The background's part of a correction: takes requests from tabs (one port each, served as a
 * CORRECTION_CHANNEL task), queues them, runs them on the engine one at a time and streams
 * updates back. A port that disconnects (tab closed or navigated, panel dismissed) cancels its
 * request.
 */
export class CorrectionService {
  private readonly queue: CorrectionQueue<Request>;
  private readonly requests = new Set<Request>();
  private sequence = 0;

  constructor(private readonly options: CorrectionServiceOptions) {
    this.queue = new CorrectionQueue<Request>({
      maxWaiting: options.maxWaiting ?? 12,
      isVisible: options.isVisible,
      run: (request) => this.execute(request),
      onPosition: (request, position) => request.task.emit({ kind: 'queued', position }),
      onDropped: (request) =>
        this.finish(request, {
          kind: 'error',
          message: 'Skipped: too many answers were waiting for a correction. Press Retry to queue this one again.',
        }),
      onChange: () => this.options.onPending?.(this.pending),
    });
  }

  /** Wires one port from a content script; `tabId` comes from the port's verified sender. */
  handlePort(port: PortLike, tabId: number): void {
    let served = false;
    serveTasks(
      port,
      CORRECTION_CHANNEL,
      (message, task) => {
        if (served) return task.emit({ kind: 'error', message: 'One correction per port.' });
        served = true;
        return this.accept(message, task, tabId);
      },
      {
        // Not even the task wire format: answer on the id it gave, if any, so a client can tell.
        onMalformed: (raw) => {
          const id = typeof (raw as { id?: unknown })?.id === 'string' ? String((raw as { id: string }).id).slice(0, 128) : 'malformed';
          port.postMessage({ t: 'event', id, seq: 0, event: { kind: 'error', message: 'Realign received a malformed request.' } });
        },
      },
    );
  }

  private accept(message: CorrectionRequest, task: TaskContext<{ kind: 'approve' }, CorrectionUpdate>, tabId: number): Promise<void> {
    const controller = new AbortController();
    task.signal.addEventListener('abort', () => controller.abort());
    const request: Request = { id: `${tabId}:${++this.sequence}`, tabId, request: message, controller, task };
    if (message.answer.length > MAX_ANSWER_CHARS) {
      task.emit({ kind: 'error', message: tooLongMessage(message.answer.length) });
      return Promise.resolve();
    }
    this.requests.add(request);
    // The task lives until its final update; the queue and the engine drive it from here.
    const ended = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve()));
    controller.signal.addEventListener('abort', () => {
      this.requests.delete(request);
      if (this.queue.remove(request.id)) this.finish(request, { kind: 'error', message: 'The correction was cancelled.' });
    });
    let pendingConsent: ConsentRequest | null = null;
    task.onSignal(() => {
      if (!pendingConsent) return;
      const consent = pendingConsent;
      pendingConsent = null;
      void (this.options.approve?.(consent) ?? Promise.resolve()).then(
        () => this.queue.enqueue(request),
        (error: unknown) => this.finish(request, { kind: 'error', message: `Could not record your agreement: ${messageOf(error)}` }),
      );
    });
    void (this.options.consentNeeded?.() ?? Promise.resolve(null)).then(
      (consent) => {
        if (controller.signal.aborted) return;
        if (consent) {
          pendingConsent = consent;
          task.emit(consent);
        } else {
          this.queue.enqueue(request);
        }
      },
      (error: unknown) => this.finish(request, { kind: 'error', message: `Realign could not read its settings: ${messageOf(error)}` }),
    );
    return ended;
  }

  /** A tab closed or navigated: its waiting requests go, its running one stops. */
  cancelTab(tabId: number): void {
    for (const request of [...this.requests]) if (request.tabId === tabId) request.controller.abort();
  }

  get pending(): { running: number; waiting: number } {
    return { running: this.queue.running ? 1 : 0, waiting: this.queue.waitingCount };
  }

  private async execute(request: Request): Promise<void> {
    if (request.controller.signal.aborted) return;
    let settings: Pick<EngineJob, 'model' | 'maxNewTokens'>;
    try {
      settings = await this.options.jobSettings();
    } catch (error) {
      this.finish(request, { kind: 'error', message: messageOf(error) });
      return;
    }
    const job: EngineJob = { question: request.request.question, answer: request.request.answer, ...settings };
    this.options.onRunning?.(request.tabId, true);
    let ended = false;
    try {
      for await (const update of this.options.engine.correct(job, request.controller.signal)) {
        if (update.kind === 'done' || update.kind === 'error') {
          ended = true;
          this.finish(request, update);
        } else request.task.emit(update);
      }
      // The engine's stream must end with a result; if it did not, the tab must still hear one.
      if (!ended) this.finish(request, { kind: 'error', message: 'The correction ended without a result. Press Retry.' });
    } catch (error) {
      this.finish(request, { kind: 'error', message: `The correction failed: ${messageOf(error)}` });
    } finally {
      this.options.onRunning?.(request.tabId, false);
    }
  }

  private finish(request: Request, update: CorrectionUpdate): void {
    request.task.emit(update);
    this.requests.delete(request);
    request.controller.abort();
  }
}
