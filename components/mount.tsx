import { render } from 'preact';
import { Panel, type PanelProps } from './Panel';
import panelCss from './panel.css?inline';

export interface MountedPanel {
  host: HTMLElement;
  /** The panel's closed shadow root: only the content script holds it (the test build's hook reads it). */
  shadow: ShadowRoot;
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
  // Closed: the page's scripts get no handle on the panel (no reading the correction, no
  // driving its buttons); only this content script holds `shadow`.
  const shadow = host.attachShadow({ mode: 'closed' });
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
  placeLikeAnchor(host, anchor);
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
  return { host, shadow, unmount };
}

/**
 * In a grid (the demo page, many chat layouts: avatar column + answer column) the host is a grid
 * item of its own, and auto-placement would drop it into the next free cell, often a narrow
 * avatar column. Put it in the answer's column(s), on the row below. Set through the CSSOM
 * (allowed under a page's strict style-src), on our own element only.
 */
function placeLikeAnchor(host: HTMLElement, anchor: Element): void {
  const parent = anchor.parentElement;
  if (!parent) return;
  try {
    const grid = getComputedStyle(parent);
    if (!/grid/.test(grid.display)) return;
    const tracks = grid.gridTemplateColumns.split(/\s+/).map(parseFloat);
    if (tracks.length < 2 || tracks.some((size) => !Number.isFinite(size))) return;
    const gap = parseFloat(grid.columnGap) || 0;
    const box = parent.getBoundingClientRect();
    const at = anchor.getBoundingClientRect();
    const rtl = grid.direction === 'rtl';
    const inset = rtl
      ? box.right - parseFloat(grid.borderRightWidth) - parseFloat(grid.paddingRight) - at.right
      : at.left - box.left - parseFloat(grid.borderLeftWidth) - parseFloat(grid.paddingLeft);
    let x = 0;
    let start = 0;
    let end = 0;
    tracks.forEach((size, i) => {
      if (Math.abs(x - inset) < 1.5) start = i + 1;
      x += size;
      if (Math.abs(x - (inset + at.width)) < 1.5) end = i + 2;
      x += gap;
    });
    host.style.gridColumn = start > 0 && end > start ? `${start} / ${end}` : '1 / -1';
  } catch {
    /* placement is cosmetic: never let it break mounting */
  }
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
