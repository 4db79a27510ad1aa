import { describe, expect, test } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { TabBadges } from '../../../entrypoints/background/badges';

describe('the toolbar badge', () => {
  test('shows … while a correction of the tab runs, ! when its site changed layout, nothing otherwise', () => {
    fakeBrowser.reset();
    const badges = new TabBadges();
    expect(badges.badgeFor(3).text).toBe('');
    badges.setHealth(3, 'shape');
    expect(badges.badgeFor(3)).toMatchObject({ text: '!', title: expect.stringMatching(/layout changed/) });
    badges.setRunning(3, true);
    badges.setRunning(3, true);
    expect(badges.badgeFor(3).text).toBe('…');
    badges.setRunning(3, false);
    // One of two corrections is still running.
    expect(badges.badgeFor(3).text).toBe('…');
    badges.setRunning(3, false);
    expect(badges.badgeFor(3).text).toBe('!');
    badges.setHealth(3, 'ok');
    expect(badges.badgeFor(3).text).toBe('');
    // Other tabs are their own.
    badges.setRunning(4, true);
    expect(badges.badgeFor(3).text).toBe('');
    badges.forget(4);
    expect(badges.badgeFor(4).text).toBe('');
  });
});
