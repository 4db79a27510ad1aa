import { browser } from 'wxt/browser';
import { boundedQuestion, MAX_ANSWER_CHARS, tooLongMessage, type CorrectionRequest, type CorrectionUpdate } from '../../utils/messages';
import { CORRECTION_CHANNEL, TaskClient, type PortLike } from '../../utils/task-port';

export interface CorrectionHandle {
  cancel(): void;
  /** Agrees to the model download a `consent` update asked about (after a trusted click). */
  approve(): void;
}

/**
 * Asks the background for one correction over its own port (a CORRECTION_CHANNEL task) and
 * reports every update. The port closing (background restarted, extension updated) becomes an
 * error the panel can retry; cancelling closes the port.
 */
export function requestCorrection(request: CorrectionRequest, onUpdate: (update: CorrectionUpdate) => void): CorrectionHandle {
  // An answer over the limit is said at once: nothing to send (a megabyte would not even fit a message).
  if (request.answer.length > MAX_ANSWER_CHARS) {
    queueMicrotask(() => onUpdate({ kind: 'error', message: tooLongMessage(request.answer.length) }));
    return { cancel: () => undefined, approve: () => undefined };
  }
  request = { ...request, question: boundedQuestion(request.question) };
  let port: PortLike;
  try {
    port = browser.runtime.connect({ name: CORRECTION_CHANNEL.name }) as unknown as PortLike;
  } catch {
    queueMicrotask(() => onUpdate({ kind: 'error', message: 'Realign was updated or restarted. Reload the page to use it here.' }));
    return { cancel: () => undefined, approve: () => undefined };
  }
  const client = new TaskClient(port, CORRECTION_CHANNEL);
  let ended = false;
  const task = client.start(request, (update) => {
    if (ended) return;
    if (CORRECTION_CHANNEL.isFinal(update)) {
      ended = true;
      port.disconnect();
    }
    onUpdate(update);
  });
  return {
    approve: () => task.signal({ kind: 'approve' }),
    cancel() {
      if (ended) return;
      ended = true;
      task.cancel();
      try {
        port.disconnect();
      } catch {
        /* already gone */
      }
    },
  };
}
