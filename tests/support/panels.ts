import type { Page } from 'playwright-core';
import type { Attempt, PanelSnapshot } from '../../entrypoints/content/test-hook';
import { contentWorld, type ContentWorld } from './content-world';

export type { PanelSnapshot };

/**
 * Reads and drives Realign's panels in a Chromium page of the test build. The panels' shadow
 * roots are closed: their state comes from the test hook in the content script's isolated world
 * (entrypoints/content/test-hook.ts), and every click is a real input event from the driver at
 * the control's place on the page (the panel ignores untrusted clicks).
 */
export class Panels {
  private constructor(
    readonly page: Page,
    private readonly world: ContentWorld,
  ) {}

  static async of(page: Page): Promise<Panels> {
    const world = await contentWorld(page);
    // The hook is installed once the content script has started.
    const deadline = Date.now() + 15_000;
    while (!(await world.evaluate<boolean>('typeof globalThis.__realignTest === "object"'))) {
      if (Date.now() > deadline) throw new Error('No test hook in the content script: is this the test build (`wxt build --mode e2e`)?');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return new Panels(page, world);
  }

  /** Every panel on the page, in page order. */
  list(): Promise<PanelSnapshot[]> {
    return this.world.evaluate<PanelSnapshot[]>('globalThis.__realignTest.panels()');
  }

  async at(index = -1): Promise<PanelSnapshot | undefined> {
    return (await this.list()).at(index);
  }

  /** What a compromised content script could try (the hook runs it in the content script). */
  attempt(what: Attempt): Promise<{ ok: boolean; value?: unknown; error?: string }> {
    return this.world.evaluate((arg: never) => (globalThis as unknown as { __realignTest: { attempt(a: unknown): unknown } }).__realignTest.attempt(arg), what);
  }

  /** Waits until the panel at `index` satisfies `ready`; returns its snapshot. */
  async waitFor(ready: (panel: PanelSnapshot) => boolean, options: { index?: number; timeout?: number; what?: string } = {}): Promise<PanelSnapshot> {
    const deadline = Date.now() + (options.timeout ?? 60_000);
    let last: PanelSnapshot | undefined;
    for (;;) {
      last = await this.at(options.index ?? -1);
      if (last && ready(last)) return last;
      if (Date.now() > deadline) throw new Error(`the panel never became ${options.what ?? 'ready'}: ${last ? `"${last.phase}" — ${last.status}` : 'no panel'}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  waitForPhase(phase: string, options: { index?: number; timeout?: number } = {}): Promise<PanelSnapshot> {
    return this.waitFor((panel) => panel.phase === phase, { ...options, what: phase });
  }

  /** Waits until the correction has finished; fails with the panel's message if it failed. */
  async waitForDone(options: { index?: number; timeout?: number } = {}): Promise<PanelSnapshot> {
    const panel = await this.waitFor((current) => current.phase === 'done' || current.phase === 'error', { ...options, what: 'done' });
    if (panel.phase === 'error') throw new Error(`the correction failed: ${panel.status}`);
    return panel;
  }

  /** A real click (trusted input) on a panel control, by its data-action or data-view. */
  async click(name: string, options: { index?: number } = {}): Promise<void> {
    const index = options.index ?? -1;
    let control = (await this.at(index))?.controls.find((candidate) => candidate.name === name);
    if (!control) throw new Error(`the panel has no "${name}" control`);
    const viewport = this.page.viewportSize();
    if (viewport && (control.rect.y < 0 || control.rect.y + control.rect.height > viewport.height)) {
      await this.page.mouse.wheel(0, control.rect.y - viewport.height / 2);
      await this.page.waitForTimeout(100);
      control = (await this.at(index))!.controls.find((candidate) => candidate.name === name)!;
    }
    await this.page.mouse.click(control.rect.x + control.rect.width / 2, control.rect.y + control.rect.height / 2);
  }

  close(): Promise<void> {
    return this.world.close();
  }
}
