/**
 * Hooks the extension pages share (popup, options, welcome): settings and the engine's status
 * are watched, never polled, and every change goes to the background in one request.
 */
import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { REALIGN_COMMAND } from '../utils/build-constants';
import { backgroundMessaging, type SettingsChange } from '../utils/messaging';
import { engineStatusItem, loadSettings, settingsItem, type PublishedEngineStatus, type Settings } from '../utils/settings';

/** The current settings (null while loading), updated whenever any context changes them. */
export function useSettings(): Settings | null {
  const [settings, setSettings] = useState<Settings | null>(null);
  useEffect(() => {
    void loadSettings().then(setSettings);
    return settingsItem.watch(() => void loadSettings().then(setSettings));
  }, []);
  return settings;
}

/** Applies a change in the background (the one writer) and resolves when it is stored. */
export async function saveSettings(change: SettingsChange): Promise<void> {
  const result = await backgroundMessaging.sendMessage('saveSettings', change);
  if (!result.ok) throw new Error(result.message);
}

/** The engine's status and queue as the background publishes them. */
export function useEngineStatus(): PublishedEngineStatus | null {
  const [status, setStatus] = useState<PublishedEngineStatus | null>(null);
  useEffect(() => {
    void engineStatusItem.getValue().then(setStatus);
    return engineStatusItem.watch((value) => setStatus(value ?? engineStatusItem.fallback));
  }, []);
  return status;
}

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
