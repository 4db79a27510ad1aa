import type { CDPSession, Page } from 'playwright-core';

/**
 * Runs code in Realign's content-script world of a page (Chromium), through the DevTools
 * protocol: the isolated world Chromium creates for the extension's content script. That world
 * is where the content script's `chrome.runtime` lives (and, in the test build, its test hook);
 * the page's own scripts can never reach it. Used by tests and benches that act as the content
 * script would (e.g. open a correction port), since extension pages may not.
 */
export interface ContentWorld {
  evaluate<T>(fn: string | ((arg: never) => unknown), arg?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function contentWorld(page: Page, options: { timeoutMs?: number } = {}): Promise<ContentWorld> {
  const session: CDPSession = await page.context().newCDPSession(page);
  const contexts: Array<{ id: number; origin: string; type?: string; frameId?: string }> = [];
  session.on('Runtime.executionContextCreated', ({ context }) => {
    contexts.push({ id: context.id, origin: context.origin, type: context.auxData?.type, frameId: context.auxData?.frameId });
  });
  session.on('Runtime.executionContextsCleared', () => void contexts.splice(0));
  await session.send('Runtime.enable');
  const { frameTree } = await session.send('Page.getFrameTree');
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const find = () =>
    contexts.find((context) => context.type === 'isolated' && context.origin.startsWith('chrome-extension://') && context.frameId === frameTree.frame.id);
  while (!find()) {
    if (Date.now() > deadline) throw new Error('Realign\'s content script world did not appear in this page (is the content script running here?).');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    async evaluate<T>(fn: string | ((arg: never) => unknown), arg?: unknown) {
      // Under tsx (the benches), esbuild's keepNames makes function bodies call a `__name` helper
      // that the page's world lacks: give the function its own.
      const expression = typeof fn === 'string' ? fn : `((__name) => (${fn.toString()})(${JSON.stringify(arg ?? null)}))((target) => target)`;
      const result = await session.send('Runtime.evaluate', { expression, contextId: find()!.id, awaitPromise: true, returnByValue: true });
      if (result.exceptionDetails) throw new Error(`content world: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`);
      return result.result.value as T;
    },
    close: () => session.detach(),
  };
}

/**
 * One correction asked for the way the content script asks (a CORRECTION_CHANNEL task on its own
 * port), from the content-script world. Resolves with every wire message received, up to the
 * final update, and the time from the request to the first text.
 */
export async function correctFromContentWorld(
  world: ContentWorld,
  messages: unknown[],
  options: { untilFinal?: boolean } = {},
): Promise<{
  received: Array<{ t?: string; id?: string; seq?: number; event?: { kind: string; message?: string; text?: string } }>;
  /** When each message arrived, in ms after the request. */
  times: number[];
  firstTextMs: number;
}> {
  return world.evaluate(
    (arg: { messages: unknown[]; untilFinal: boolean }) =>
      new Promise((resolve) => {
        const api = (globalThis as unknown as { chrome: { runtime: { connect(o: object): ChromePort } } }).chrome;
        interface ChromePort {
          postMessage(m: unknown): void;
          disconnect(): void;
          onMessage: { addListener(f: (m: { event?: { kind: string } }) => void): void };
          onDisconnect: { addListener(f: () => void): void };
        }
        const port = api.runtime.connect({ name: 'realign/correct' });
        const received: unknown[] = [];
        const times: number[] = [];
        const start = performance.now();
        let firstTextMs = -1;
        const end = () => {
          port.disconnect();
          resolve({ received, times, firstTextMs });
        };
        port.onMessage.addListener((message) => {
          received.push(message);
          times.push(performance.now() - start);
          const kind = message.event?.kind;
          if (kind === 'text' && firstTextMs < 0) firstTextMs = performance.now() - start;
          if (!arg.untilFinal || kind === 'done' || kind === 'error') end();
        });
        port.onDisconnect.addListener(() => resolve({ received, times, firstTextMs }));
        for (const message of arg.messages) port.postMessage(message);
      }),
    { messages, untilFinal: options.untilFinal ?? true },
  );
}
