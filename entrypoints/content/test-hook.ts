/**
 * The test build's window into the panels (`wxt build --mode e2e` only; the demo and production
 * builds leave this module out). The panels' shadow roots are closed, so tests read them here:
 * as `__realignTest` in the content script's isolated world (Chromium tests reach it over the
 * DevTools protocol), or by the `testHook` message from an extension page (Firefox). A page's own
 * scripts can reach neither. Tests act through the driver's real input events at the rectangles
 * reported here, since the panel ignores untrusted clicks.
 */
import { browser } from 'wxt/browser';
import type { MountedPanel } from '../../components/mount';
import { backgroundMessaging, handleInContent, type BackgroundProtocol } from '../../utils/messaging';
import { messageOf } from '../../utils/errors';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PanelSnapshot {
  phase: string;
  status: string;
  /** The selected tab ('changes' | 'corrected'), or null when no tabs show. */
  view: string | null;
  /** The body's text (the diff or the corrected answer), or null when collapsed or empty. */
  body: string | null;
  bodyHtml: string | null;
  /** Inner HTML of the whole panel (for checks that nothing the model wrote became markup). */
  html: string;
  notes: string[];
  /** Every control: `data-action` or `data-view`, its label, ARIA state and where it is on the page. */
  controls: Array<{
    name: string;
    label: string;
    rect: Rect;
    disabled: boolean;
    role: string | null;
    ariaLabel: string | null;
    ariaSelected: string | null;
    ariaExpanded: string | null;
  }>;
  /** The status line's role and aria-live; the number of tablists. */
  aria: { statusRole: string | null; statusLive: string | null; tablists: number };
  theme: string | null;
  /** A few computed styles of the panel (styles really applied under the page's CSP). */
  style: { borderRadius: string; borderTopWidth: string; fontSize: string; backgroundColor: string };
  /** Links the panel rendered from Markdown: their text, whether they are inert, and where. */
  links: Array<{ text: string; inert: boolean; rect: Rect }>;
  /** The control that has keyboard focus inside the panel, or null. */
  focused: string | null;
  host: Rect;
}

function rectOf(element: Element): Rect {
  const box = element.getBoundingClientRect();
  return { x: box.x, y: box.y, width: box.width, height: box.height };
}

function snapshot(panel: MountedPanel): PanelSnapshot {
  const root = panel.shadow;
  const body = root.querySelector('[role="tabpanel"]');
  const selected = root.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]');
  const active = root.activeElement as HTMLElement | null;
  const section = root.querySelector('section') as HTMLElement;
  const status = root.querySelector('[data-testid="realign-status"]');
  const computed = getComputedStyle(section);
  return {
    phase: panel.host.getAttribute('data-phase') ?? '',
    status: root.querySelector('[data-testid="realign-status"]')?.textContent ?? '',
    view: selected?.dataset.view ?? null,
    body: body?.textContent ?? null,
    bodyHtml: body?.innerHTML ?? null,
    html: section.innerHTML,
    notes: [...root.querySelectorAll('.rl-notes li')].map((item) => item.textContent ?? ''),
    controls: [...root.querySelectorAll<HTMLElement>('[data-action], [data-view]')].map((control) => ({
      name: control.dataset.action ?? control.dataset.view ?? '',
      label: control.textContent ?? '',
      rect: rectOf(control),
      disabled: (control as HTMLButtonElement).disabled === true,
      role: control.getAttribute('role'),
      ariaLabel: control.getAttribute('aria-label'),
      ariaSelected: control.getAttribute('aria-selected'),
      ariaExpanded: control.getAttribute('aria-expanded'),
    })),
    links: [...root.querySelectorAll('.rl-link')].map((link) => ({ text: link.textContent ?? '', inert: link.classList.contains('rl-link-inert'), rect: rectOf(link) })),
    aria: { statusRole: status?.getAttribute('role') ?? null, statusLive: status?.getAttribute('aria-live') ?? null, tablists: root.querySelectorAll('[role="tablist"]').length },
    theme: section.getAttribute('data-theme'),
    style: { borderRadius: computed.borderRadius, borderTopWidth: computed.borderTopWidth, fontSize: computed.fontSize, backgroundColor: computed.backgroundColor },
    focused: active ? (active.dataset.action ?? active.dataset.view ?? active.tagName.toLowerCase()) : null,
    host: rectOf(panel.host),
  };
}

/** What a compromised content script could try: the tests check each is refused. */
export type Attempt =
  | { kind: 'storage' }
  /** Firefox lets content scripts write storage.local: nothing privileged may be read from it. */
  | { kind: 'storageWrite'; items: Record<string, unknown> }
  | { kind: 'message'; name: keyof BackgroundProtocol; data?: unknown };

async function attempt(what: Attempt): Promise<{ ok: boolean; value?: unknown; error?: string }> {
  try {
    if (what.kind === 'storage') return { ok: true, value: await browser.storage.local.get(null) };
    if (what.kind === 'storageWrite') return { ok: true, value: await browser.storage.local.set(what.items) };
    const send = backgroundMessaging.sendMessage as (name: string, data: unknown) => Promise<unknown>;
    return { ok: true, value: await send(what.name, what.data) };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

export function installTestHook(panels: () => MountedPanel[]): void {
  const hook = {
    panels: () =>
      panels()
        .filter((panel) => panel.host.isConnected)
        // Page order, as a person reads them.
        .sort((a, b) => (a.host.compareDocumentPosition(b.host) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))
        .map(snapshot),
    attempt,
  };
  (globalThis as unknown as { __realignTest: typeof hook }).__realignTest = hook;
  handleInContent('testHook', async (request) =>
    request.op === 'panels' ? { panels: hook.panels() } : { attempt: await hook.attempt(request.attempt) },
  );
}
