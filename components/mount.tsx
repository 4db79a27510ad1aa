import { render } from 'preact';
import { Panel, type PanelProps } from './Panel';
import panelCss from './panel.css?inline';

export interface MountedPanel {
  host: HTMLElement;
  unmount(): void;
}

let sharedSheet: CSSStyleSheet | null | undefined;

/** One constructed stylesheet for every panel: no inline <style>, so strict page CSPs allow it. */
function panelSheet(): CSSStyleSheet | null {
  if (sharedSheet !== undefined) return sharedSheet;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(panelCss);
    sharedSheet = sheet;
  } catch {
    sharedSheet = null;
  }
  return sharedSheet;
}

/**
 * Mounts a panel in a shadow root right after `anchor`. The site's own answer element is
 * never touched: the panel is a sibling, and removing it leaves the page as it was.
 */
export function mountPanel(anchor: Element, props: Omit<PanelProps, 'onDismiss'> & { onDismiss?: () => void }): MountedPanel {
  const host = document.createElement('realign-panel');
  host.setAttribute('data-realign', '');
  const shadow = host.attachShadow({ mode: 'open' });
  const sheet = panelSheet();
  if (sheet) shadow.adoptedStyleSheets = [sheet];
  else {
    const style = document.createElement('style');
    style.textContent = panelCss;
    shadow.append(style);
  }
  const container = document.createElement('div');
  shadow.append(container);
  anchor.after(host);
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    render(null, container);
    host.remove();
  };
  render(
    <Panel
      {...props}
      onState={(phase) => {
        // Mirrored on the host so the page's own tools (and tests) can see progress without reaching in.
        host.setAttribute('data-phase', phase);
        props.onState?.(phase);
      }}
      onDismiss={() => {
        unmount();
        props.onDismiss?.();
      }}
    />,
    container,
  );
  return { host, unmount };
}

/** Light or dark, following the page: its background if it has one, else the system setting. */
export function pageTheme(): 'light' | 'dark' {
  for (const element of [document.body, document.documentElement]) {
    if (!element) continue;
    const match = /rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)/.exec(getComputedStyle(element).backgroundColor);
    if (match && (match[4] === undefined || Number(match[4]) > 0.5)) {
      const [r, g, b] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
      return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128 ? 'dark' : 'light';
    }
  }
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
