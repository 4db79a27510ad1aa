import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { REALIGN_COMMAND } from '../utils/build-constants';

/**
 * The key the browser really assigned to "Realign the selected answer" ('' when none: another
 * extension or the browser took it), read from commands.getAll(), never assumed.
 */
export function useShortcut(): { shortcut: string | null; change: () => void } {
  const [shortcut, setShortcut] = useState<string | null>(null);
  useEffect(() => {
    void browser.commands
      .getAll()
      .then((commands) => setShortcut(commands.find((command) => command.name === REALIGN_COMMAND)?.shortcut ?? ''))
      .catch(() => setShortcut(''));
  }, []);
  return { shortcut, change: openShortcutSettings };
}

/** The browser's own page for extension shortcuts (Firefox: its "Manage Extension Shortcuts"). */
export function openShortcutSettings(): void {
  const commands = browser.commands as typeof browser.commands & { openShortcutSettings?: () => Promise<void> };
  if (import.meta.env.FIREFOX && commands.openShortcutSettings) void commands.openShortcutSettings();
  else void browser.tabs.create({ url: 'chrome://extensions/shortcuts' });
}
