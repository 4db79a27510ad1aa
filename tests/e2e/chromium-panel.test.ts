import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startHubServer, type HubServer } from '../support/hub-server';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ExtensionBrowser } from '../support/chromium';
import { lastPanel, openPage, streamAnswer, waitForDone } from '../support/demo-page';

// The in-page correction panel, in Chromium on WASM (no WebGPU flag) with the tiny Aligner.

const VIEWS = ['original', 'corrected', 'changes'] as const;
let hub: HubServer;
let browser: ExtensionBrowser;
let demoUrl: string;

beforeAll(async () => {
  hub = await startHubServer({ repos: { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' }, pages: 'tests/fixtures/sites' });
  browser = await launchWithExtension({ webgpu: false });
  await setSettings(browser.worker, tinyAlignerSettings(hub.url));
  demoUrl = `${hub.url}/pages/demo.html`;
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
});

/** What has keyboard focus, seen from the page: a panel control by its data-view/-action, else the page element. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = document.activeElement;
    if (active?.tagName === 'REALIGN-PANEL') {
      const inner = active.shadowRoot?.activeElement as HTMLElement | null | undefined;
      return `panel:${inner?.dataset.view ?? inner?.dataset.action ?? inner?.tagName ?? 'none'}`;
    }
    return `page:${active?.tagName}:${(active?.textContent ?? '').trim()}`;
  });
}

describe('correction panel', () => {
  test('toggling Original/Corrected/Changes 100 times leaves the site\'s answer byte-identical', async () => {
    const page = await openPage(browser, demoUrl);
    const before = await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
    expect(before.panelAlready).toBe(false);
    const panel = lastPanel(page);
    expect(await waitForDone(panel)).toMatch(/^1 change\. WASM \(CPU\)/);

    // The panel is a sibling right after the answer element, not inside it.
    expect(await page.evaluate(() => {
      const w = window as unknown as { __answer: Element };
      return w.__answer.nextElementSibling?.tagName;
    })).toBe('REALIGN-PANEL');

    const result = await page.evaluate(async (views) => {
      const w = window as unknown as { __turn: Element; __answer: Element };
      const host = w.__turn.querySelector('realign-panel')!;
      const shadow = host.shadowRoot!;
      const lightMutations: string[] = [];
      // Every light-DOM change in the turn except the panel host's own attributes.
      const observer = new MutationObserver((records) => {
        for (const r of records) if (r.target !== host) lightMutations.push(`${r.type} on ${(r.target as Element).nodeName}`);
      });
      observer.observe(w.__turn, { subtree: true, childList: true, attributes: true, characterData: true });
      const wrong: string[] = [];
      for (let round = 0; round < 100; round++) {
        for (const view of views) {
          (shadow.querySelector(`[data-view="${view}"]`) as HTMLElement).click();
          await new Promise((resolve) => setTimeout(resolve, 0));
          const selected = [...shadow.querySelectorAll('[role="tab"][aria-selected="true"]')].map((t) => (t as HTMLElement).dataset.view);
          const body = shadow.querySelector('[role="tabpanel"]')?.getAttribute('data-testid') ?? null;
          const expectedBody = view === 'original' ? null : `realign-${view}`;
          if (selected.join() !== view || body !== expectedBody) wrong.push(`${round}/${view}: selected ${selected.join()} body ${body}`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      observer.disconnect();
      const clone = w.__turn.cloneNode(true) as Element;
      clone.querySelectorAll('realign-panel').forEach((node) => node.remove());
      return {
        wrong,
        lightMutations,
        sameAnswerNode: w.__turn.querySelector('.answer-text') === w.__answer,
        answerHtml: w.__answer.outerHTML,
        turnWithoutPanel: clone.outerHTML,
        corrected: shadow.querySelector('[data-testid="realign-changes"]')?.textContent,
      };
    }, VIEWS);

    expect(result.wrong).toEqual([]);
    expect(result.lightMutations).toEqual([]);
    expect(result.sameAnswerNode).toBe(true);
    expect(result.answerHtml).toBe(before.answerHtml);
    expect(result.turnWithoutPanel).toBe(before.turnHtml);
    // The last view chosen was Changes: the diff of the real correction is still there.
    expect(result.corrected).toBe('The weather is badgood today.');
    await page.close();
  });

  test('Dismiss removes every trace of the panel, and the site keeps working', async () => {
    const page = await openPage(browser, demoUrl);
    const before = await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
    const panel = lastPanel(page);
    await waitForDone(panel);
    // Centred first: the demo page's fixed composer covers the bottom of the viewport.
    await panel.evaluate((host) => host.scrollIntoView({ block: 'center' }));
    await panel.locator('[data-action="dismiss"]').click();

    expect(await page.locator('realign-panel').count()).toBe(0);
    const after = await page.evaluate(() => ({
      body: document.body.innerHTML,
      head: document.head.innerHTML,
      marked: [...document.querySelectorAll('body [data-realign], body [data-phase]')].length,
    }));
    expect(after.body).toBe(before.bodyHtml);
    expect(after.head).toBe(before.headHtml);
    expect(after.marked).toBe(0);

    // The site still streams and renders; Realign corrects the new answer and leaves the dismissed one alone.
    const next = await streamAnswer(page, 'Is it fun?', 'It is never fun.');
    expect(next.answerHtml).toBe('<div class="answer-text"><p>It is never fun.</p></div>');
    expect(await page.locator('[data-role="assistant"]').last().getAttribute('data-streaming')).toBe('false');
    expect(await waitForDone(lastPanel(page))).toMatch(/^1 change\./);
    expect(await page.locator('realign-panel').count()).toBe(1);
    await page.close();
  });

  test('keyboard: every control is reachable with Tab and works with Enter and Space; tabs and status carry their roles', async () => {
    const page = await openPage(browser, demoUrl);
    await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
    const panel = lastPanel(page);
    await waitForDone(panel);

    // From the control just before the new answer (the previous answer's Regenerate button), Tab walks through the panel.
    await page.locator('[data-role="assistant"]').first().locator('[data-action="regenerate"]').focus();
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused(page));
    }
    expect(order).toEqual([
      'panel:original',
      'panel:corrected',
      'panel:changes',
      'panel:copy',
      'panel:retry',
      'panel:dismiss',
      'page:BUTTON:Copy',
    ]);

    await panel.locator('[data-view="original"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => panel.locator('[data-view="original"]').getAttribute('aria-selected')).toBe('true');
    expect(await panel.locator('[role="tabpanel"]').count()).toBe(0);

    await panel.locator('[data-view="corrected"]').focus();
    await page.keyboard.press('Space');
    await expect.poll(() => panel.locator('[data-view="corrected"]').getAttribute('aria-selected')).toBe('true');
    expect((await panel.locator('[data-testid="realign-corrected"]').textContent())?.trim()).toBe('The weather is good today.');

    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => panel.locator('[data-view="changes"]').getAttribute('aria-selected')).toBe('true');
    expect(await panel.locator('[data-testid="realign-changes"] ins').allTextContents()).toEqual(['good']);

    // Roles: a tablist of three tabs, exactly one selected; a polite status line.
    expect(await panel.locator('[role="tablist"]').count()).toBe(1);
    const tabs = await panel.locator('[role="tab"]').evaluateAll((nodes) => nodes.map((n) => `${(n as HTMLElement).dataset.view}=${n.getAttribute('aria-selected')}`));
    expect(tabs).toEqual(['original=false', 'corrected=false', 'changes=true']);
    expect(await panel.locator('[role="status"]').count()).toBe(1);
    expect(await panel.locator('[role="status"]').getAttribute('aria-live')).toBe('polite');
    expect(await panel.locator('[data-action="dismiss"]').getAttribute('aria-label')).toBe('Dismiss Realign panel');

    await panel.locator('[data-action="dismiss"]').focus();
    await page.keyboard.press('Space');
    await expect.poll(() => page.locator('realign-panel').count()).toBe(0);
    await page.close();
  });

  test('under a strict page CSP (no inline styles but the page\'s own) the panel is styled and the correction completes', async () => {
    const html = readFileSync('tests/fixtures/sites/demo.html', 'utf8');
    const hash = (tag: string) => {
      const body = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html)![1]!;
      return `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`;
    };
    // Only the page's own <style> and <script> (by hash): any other inline style or script, and
    // every fetch, image, font or frame, is refused.
    const csp = `default-src 'none'; script-src ${hash('script')}; style-src ${hash('style')}; img-src 'none'; connect-src 'none'; font-src 'none'; frame-src 'none'`;
    hub.pageHeaders['Content-Security-Policy'] = csp;
    try {
      const page = await browser.context.newPage();
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { __violations: string[] }).__violations = seen;
        document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
      });
      const response = await page.goto(demoUrl);
      expect(response?.headers()['content-security-policy']).toBe(csp);
      await page.waitForSelector('html[data-realign-active]');
      await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
      const panel = lastPanel(page);
      expect(await waitForDone(panel)).toMatch(/^1 change\./);
      const style = await panel.locator('section.rl-panel').evaluate((section) => {
        const s = getComputedStyle(section);
        return { radius: s.borderRadius, border: s.borderTopWidth, font: s.fontSize };
      });
      expect(style).toEqual({ radius: '10px', border: '1px', font: '14px' });
      expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
      // The CSP really binds (so the checks above mean something): the page's own style applies, an extra inline <style> does not.
      const probe = await page.evaluate(async () => {
        const style = document.createElement('style');
        style.textContent = 'main { outline: 7px solid red }';
        document.head.append(style);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const result = { background: getComputedStyle(document.body).backgroundColor, outline: getComputedStyle(document.querySelector('main')!).outlineStyle };
        style.remove();
        const w = window as unknown as { __violations: string[] };
        const violations = w.__violations.splice(0);
        return { ...result, violations };
      });
      expect(probe.background).toBe('rgb(247, 247, 248)');
      expect(probe.outline).toBe('none');
      expect(probe.violations).toEqual(['style-src-elem inline']);

      await page.close();
    } finally {
      delete hub.pageHeaders['Content-Security-Policy'];
    }
  });

  test.each(['light', 'dark'] as const)('screenshots of the three views, %s page', async (scheme) => {
    mkdirSync('screenshots', { recursive: true });
    const page = await openPage(browser, demoUrl, { colorScheme: scheme });
    await streamAnswer(page, 'What do you think?', 'The plan is bad today. My dog never sleeps.');
    const panel = lastPanel(page);
    expect(await waitForDone(panel)).toMatch(/^2 changes\./);
    // The panel follows the page: the demo page's background follows prefers-color-scheme.
    expect(await panel.locator('section').getAttribute('data-theme')).toBe(scheme);
    const background = await panel.locator('section').evaluate((s) => getComputedStyle(s).backgroundColor);
    expect(background).toBe(scheme === 'light' ? 'rgb(247, 248, 250)' : 'rgb(28, 33, 40)');
    const turn = page.locator('[data-role="assistant"]').last();
    await turn.evaluate((element) => element.scrollIntoView({ block: 'center' }));
    for (const view of VIEWS) {
      await panel.locator(`[data-view="${view}"]`).click();
      await expect.poll(() => panel.locator(`[data-view="${view}"]`).getAttribute('aria-selected')).toBe('true');
      await page.mouse.move(0, 0);
      const path = `screenshots/panel-${scheme}-${view}.png`;
      await turn.screenshot({ path, animations: 'disabled' });
      expect(statSync(path).size).toBeGreaterThan(1000);
    }
    await page.close();
  });
});
