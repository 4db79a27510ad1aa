import { browser } from 'wxt/browser';
import { CORRECTION_PORT, type CorrectionClientMessage, type CorrectionUpdate } from '../../utils/protocol';

export interface CorrectionHandle {
  cancel(): void;
  /** Agrees to the model download a `consent` update asked about. */
  approve(): void;
}

/**
 * Asks the background for one correction over its own port and reports every update. The port
 * closing (background restarted, extension updated) becomes an error the panel can retry.
 */
export function requestCorrection(
  request: { site: string; question: string; answer: string },
  onUpdate: (update: CorrectionUpdate) => void,
): CorrectionHandle {
  let ended = false;
  const end = (update: CorrectionUpdate) => {
    if (ended) return;
    if (update.kind === 'done' || update.kind === 'error') ended = true;
    onUpdate(update);
  };
  let port: ReturnType<typeof browser.runtime.connect>;
  try {
    port = browser.runtime.connect({ name: CORRECTION_PORT });
  } catch {
    end({ kind: 'error', message: 'Realign was updated or restarted. Reload the page to use it here.' });
    return { cancel: () => undefined, approve: () => undefined };
  }
  port.onMessage.addListener((message: unknown) => {
    if (typeof message === 'object' && message !== null && 'kind' in message) end(message as CorrectionUpdate);
  });
  port.onDisconnect.addListener(() =>
    end({ kind: 'error', message: 'The correction stopped: Realign\'s background restarted. Press Retry.' }),
  );
  port.postMessage({ type: 'start', ...request } satisfies CorrectionClientMessage);
  return {
    approve() {
      if (!ended) port.postMessage({ type: 'approve' } satisfies CorrectionClientMessage);
    },
    cancel() {
      if (ended) return;
      ended = true;
      try {
        port.postMessage({ type: 'cancel' } satisfies CorrectionClientMessage);
        port.disconnect();
      } catch {
        /* already gone */
      }
    },
  };
}
