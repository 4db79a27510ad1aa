import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startHubServer, type HubServer } from '../support/hub-server';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ExtensionBrowser } from '../support/chromium';
import { openPage, streamAnswer } from '../support/demo-page';
import { Panels } from '../support/panels';

// The in-page correction panel, in Chromium on WASM (no WebGPU flag) with the tiny Aligner.

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

/** What has keyboard focus, seen from the page: a panel control (from the hook), else the page element. */
async function focused(page: Page, panels: Panels): Promise<string> {
  const onPage = await page.evaluate(() => {
    const active = document.activeElement;
    return active?.tagName === 'REALIGN-PANEL' ? null : `page:${active?.tagName}:${(active?.textContent ?? '').trim()}`;
  });
  return onPage ?? `panel:${(await panels.at(-1))?.focused ?? 'none'}`;
}

describe('correction panel', () => {
  test('switching Changes/Corrected and collapsing 30 times, with real clicks, leaves the site\'s answer byte-identical', async () => {
    const page = await openPage(browser, demoUrl);
    const before = await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
    expect(before.panelAlready).toBe(false);
    const panels = await Panels.of(page);
    expect((await panels.waitForDone()).status).toMatch(/^1 change · CPU \(WASM\) · \d+\.\d s$/);

    // The panel is a sibling right after the answer element, not inside it.
    expect(await page.evaluate(() => (window as unknown as { __answer: Element }).__answer.nextElementSibling?.tagName)).toBe('REALIGN-PANEL');
    await page.evaluate(() => {
      const w = window as unknown as { __turn: Element; __mutations: string[] };
      const host = w.__turn.querySelector('realign-panel')!;
      w.__mutations = [];
      // Every light-DOM change in the turn except the panel host's own attributes.
      new MutationObserver((records) => {
        for (const r of records) if (r.target !== host) w.__mutations.push(`${r.type} on ${(r.target as Element).nodeName}`);
      }).observe(w.__turn, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    const wrong: string[] = [];
    for (let round = 0; round < 30; round++) {
      for (const step of ['corrected', 'changes', 'collapse', 'collapse'] as const) {
        await panels.click(step);
        const now = await panels.at(-1);
        if (step === 'collapse') {
          const open = now!.body !== null;
          if (open !== (now!.controls.find((c) => c.name === 'collapse')!.ariaExpanded === 'true')) wrong.push(`${round}/${step}: body and aria-expanded disagree`);
        } else if (now!.view !== step || now!.body === null) {
          wrong.push(`${round}/${step}: view ${now!.view}, body ${now!.body === null ? 'none' : 'shown'}`);
        }
      }
    }
    const after = await page.evaluate(() => {
      const w = window as unknown as { __turn: Element; __answer: Element; __mutations: string[] };
      const clone = w.__turn.cloneNode(true) as Element;
      clone.querySelectorAll('realign-panel').forEach((node) => node.remove());
      return {
        mutations: w.__mutations,
        sameAnswerNode: w.__turn.querySelector('.answer-text') === w.__answer,
        answerHtml: w.__answer.outerHTML,
        turnWithoutPanel: clone.outerHTML,
      };
    });
    expect(wrong).toEqual([]);
    expect(after.mutations).toEqual([]);
    expect(after.sameAnswerNode).toBe(true);
    expect(after.answerHtml).toBe(before.answerHtml);
    expect(after.turnWithoutPanel).toBe(before.turnHtml);
    // The last view chosen was Changes: the diff of the real correction is still there.
    expect((await panels.at(-1))!.body).toBe('The weather is badgood today.');
    await page.close();
  });

  test('the page cannot reach the panel: closed shadow root, synthetic clicks do nothing', async () => {
    await setSettings(browser.worker, { defaultMode: 'on-demand' });
    try {
      const page = await openPage(browser, demoUrl);
      await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
      const panels = await Panels.of(page);
      await panels.waitFor((panel) => panel.phase === 'idle' && panel.controls.some((c) => c.name === 'realign'));
      const fromPage = await page.evaluate(async () => {
        const host = document.querySelector('[data-role="assistant"]:last-of-type realign-panel') ?? [...document.querySelectorAll('realign-panel')].at(-1)!;
        const shadow = host.shadowRoot;
        // Every way a page script could press a button it cannot see: the host itself, events
        // sent at the panel's place, keyboard events.
        (host as HTMLElement).click();
        const box = host.getBoundingClientRect();
        const target = document.elementFromPoint(box.x + box.width - 60, box.y + 15);
        target?.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true, clientX: box.x + box.width - 60, clientY: box.y + 15 }));
        host.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true }));
        await new Promise((resolve) => setTimeout(resolve, 500));
        return { shadow: shadow === null, targetIsHost: target === host };
      });
      expect(fromPage).toEqual({ shadow: true, targetIsHost: true });
      expect((await panels.at(-1))!.phase).toBe('idle');
      // The same button under a real click (trusted input) starts the correction.
      await panels.click('realign');
      await panels.waitForDone();
      await page.close();
    } finally {
      await setSettings(browser.worker, { defaultMode: 'auto' });
    }
  });

  test('Dismiss removes every trace of the panel, and the site keeps working', async () => {
    const page = await openPage(browser, demoUrl);
    const before = await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
    const panels = await Panels.of(page);
    await panels.waitForDone();
    await panels.click('dismiss');

    await expect.poll(() => page.locator('realign-panel').count()).toBe(0);
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
    expect((await panels.waitForDone()).status).toMatch(/^1 change · /);
    expect(await page.locator('realign-panel').count()).toBe(1);
    await page.close();
  });

  test('keyboard: every control is reachable with Tab and works with Enter and Space; tabs and status carry their roles', async () => {
    const page = await openPage(browser, demoUrl);
    await streamAnswer(page, 'How is the weather?', 'The weather is bad today.');
    const panels = await Panels.of(page);
    await panels.waitForDone();

    // From the control just before the new answer (the previous answer's Regenerate button), Tab walks through the panel.
    await page.locator('[data-role="assistant"]').first().locator('[data-action="regenerate"]').focus();
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused(page, panels));
    }
    expect(order).toEqual(['panel:changes', 'panel:corrected', 'panel:copy', 'panel:retry', 'panel:collapse', 'panel:dismiss', 'page:BUTTON:Copy']);

    // Back to the panel's first tab: Shift+Tab from the page's Copy button walks back.
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+Tab');
    expect(await focused(page, panels)).toBe('panel:corrected');
    await page.keyboard.press('Space');
    await expect.poll(async () => (await panels.at(-1))!.view).toBe('corrected');
    expect((await panels.at(-1))!.body?.trim()).toBe('The weather is good today.');

    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await panels.at(-1))!.view).toBe('changes');
    expect((await panels.at(-1))!.bodyHtml).toContain('<ins class="rl-added">good</ins>');

    // Collapse with the keyboard: the body goes, the control says so.
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
    expect(await focused(page, panels)).toBe('panel:collapse');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await panels.at(-1))!.body).toBe(null);
    expect((await panels.at(-1))!.controls.find((c) => c.name === 'collapse')!.ariaExpanded).toBe('false');

    // Roles: a polite status line, a labelled dismiss button.
    const panel = (await panels.at(-1))!;
    expect(panel.aria).toMatchObject({ statusRole: 'status', statusLive: 'polite' });
    expect(panel.controls.find((c) => c.name === 'dismiss')!.ariaLabel).toBe('Dismiss Realign panel');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await panels.at(-1))!.aria.tablists).toBe(1);
    const tabs = (await panels.at(-1))!.controls.filter((c) => c.role === 'tab').map((c) => `${c.name}=${c.ariaSelected}`);
    expect(tabs).toEqual(['changes=true', 'corrected=false']);

    await page.keyboard.press('Tab');
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
    // Only the page's own script file and <style> (by hash): any inline script, any other inline
    // style, and every fetch, image, font or frame, is refused.
    const csp = `default-src 'none'; script-src 'self'; style-src ${hash('style')}; img-src 'none'; connect-src 'none'; font-src 'none'; frame-src 'none'`;
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
      const panels = await Panels.of(page);
      const panel = await panels.waitForDone();
      expect(panel.status).toMatch(/^1 change · /);
      expect(panel.style).toMatchObject({ borderRadius: '10px', borderTopWidth: '1px', fontSize: '14px' });
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

  test.each(['light', 'dark'] as const)('screenshots of the views, %s page', async (scheme) => {
    mkdirSync('screenshots', { recursive: true });
    const page = await openPage(browser, demoUrl, { colorScheme: scheme });
    await streamAnswer(page, 'What do you think?', 'The plan is bad today. My dog never sleeps.');
    const panels = await Panels.of(page);
    const panel = await panels.waitForDone();
    expect(panel.status).toMatch(/^2 changes · /);
    // The panel follows the page: the demo page's background follows prefers-color-scheme.
    expect(panel.theme).toBe(scheme);
    expect(panel.style.backgroundColor).toBe(scheme === 'light' ? 'rgb(247, 248, 250)' : 'rgb(28, 33, 40)');
    const turn = page.locator('[data-role="assistant"]').last();
    await turn.evaluate((element) => element.scrollIntoView({ block: 'center' }));
    // The view is remembered per site: an earlier test may have left the panels collapsed.
    if (panel.body === null) await panels.click('collapse');
    for (const view of ['changes', 'corrected', 'collapse'] as const) {
      await panels.click(view);
      if (view !== 'collapse') await expect.poll(async () => (await panels.at(-1))!.view).toBe(view);
      else await expect.poll(async () => (await panels.at(-1))!.body).toBe(null);
      await page.mouse.move(0, 0);
      const path = `screenshots/panel-${scheme}-${view === 'collapse' ? 'collapsed' : view}.png`;
      await turn.screenshot({ path, animations: 'disabled' });
      expect(statSync(path).size).toBeGreaterThan(1000);
    }
    await page.close();
  });

  test.each(['light', 'dark'] as const)('store screenshot at 1280 × 800, %s', async (scheme) => {
    const page = await openPage(browser, demoUrl, { colorScheme: scheme });
    await page.setViewportSize({ width: 1280, height: 800 });
    await streamAnswer(page, 'What do you think?', 'The plan is bad today. My dog never sleeps.');
    const panels = await Panels.of(page);
    await panels.waitForDone();
    if ((await panels.at(-1))!.body === null) await panels.click('collapse');
    await panels.click('changes');
    await page.locator('[data-role="assistant"]').last().evaluate((element) => element.scrollIntoView({ block: 'center' }));
    await page.mouse.move(0, 0);
    const path = `screenshots/store-${scheme}.png`;
    await page.screenshot({ path });
    // PNG width and height: what the stores ask for.
    const png = readFileSync(path);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 800]);
    await page.close();
  });
});
