import { browser } from 'wxt/browser';
import type { AdapterHealthReport } from '../../utils/messages';

type Health = AdapterHealthReport['health'];

/** Health states that mean the site changed under its adapter: worth a mark on the toolbar icon. */
const DEGRADED = new Set<Health>(['fallback', 'shape', 'stale']);

/**
 * The toolbar icon's badge per tab: "…" while a correction of that tab runs, "!" when the site's
 * layout changed under its adapter (the popup says more), nothing otherwise.
 */
export class TabBadges {
  private readonly running = new Map<number, number>();
  private readonly health = new Map<number, Health>();

  setRunning(tabId: number, running: boolean): void {
    const count = (this.running.get(tabId) ?? 0) + (running ? 1 : -1);
    if (count > 0) this.running.set(tabId, count);
    else this.running.delete(tabId);
    this.render(tabId);
  }

  setHealth(tabId: number, health: Health): void {
    this.health.set(tabId, health);
    this.render(tabId);
  }

  forget(tabId: number): void {
    this.running.delete(tabId);
    this.health.delete(tabId);
  }

  /** What the badge shows for a tab (exported for tests). */
  badgeFor(tabId: number): { text: string; color: string; title: string } {
    if (this.running.has(tabId)) return { text: '…', color: '#0b6bcb', title: 'Realign is correcting an answer on this page' };
    if (DEGRADED.has(this.health.get(tabId) ?? 'ok')) return { text: '!', color: '#bf8700', title: "Realign: this site's layout changed; open to see more" };
    return { text: '', color: '#0b6bcb', title: 'Realign' };
  }

  private render(tabId: number): void {
    const { text, color, title } = this.badgeFor(tabId);
    // A tab can close between a change and its badge: nothing to show then.
    void browser.action.setBadgeText({ tabId, text }).catch(() => undefined);
    void browser.action.setBadgeBackgroundColor({ tabId, color }).catch(() => undefined);
    void browser.action.setTitle({ tabId, title }).catch(() => undefined);
  }
}
