import { Component, type ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { applyTextDelta, type CorrectionUpdate, type Device, type PanelView } from '../utils/messages';
import { countChanges, diffAnswer, type DiffPart } from '../utils/diff';
import { renderDiff, renderMarkdownCached } from '../utils/markdown';
import { judgeCorrection, type OutputVerdict } from '../utils/output-guard';

export interface CorrectionStarter {
  (question: string, onUpdate: (update: CorrectionUpdate) => void): { cancel(): void; approve(): void };
}

export interface PanelProps {
  /** The answer as it was read when the correction was asked for. */
  original: string;
  question: string;
  /** Start at once (automatic mode) or wait for the Realign button (on-demand). */
  autoStart: boolean;
  /** Show a question box before starting (a selection on a page where no question is known). */
  askQuestion?: boolean;
  initialView: PanelView;
  theme: 'light' | 'dark';
  start: CorrectionStarter;
  onViewChange?: (view: PanelView) => void;
  onDismiss: () => void;
  /** Called on every state change (tests, page state for the popup). */
  onState?: (state: PanelState['phase']) => void;
}

export type PanelState =
  | { phase: 'idle' }
  | { phase: 'queued'; position: number }
  | { phase: 'consent'; model: string; host: string; bytes: number; keptBytes?: number }
  | { phase: 'downloading'; loaded: number; total: number; files: number; filesDone: number }
  | { phase: 'converting'; bytesRead: number; bytesTotal: number; tensorsDone: number; tensorsTotal: number; etaMs: number }
  | { phase: 'loading'; device: Device; note?: string }
  | { phase: 'correcting'; device: Device; text: string; part: number; parts: number; remoteHost?: string }
  | { phase: 'done'; text: string; notes: string[]; device?: Device; remoteHost?: string; ms: number }
  | { phase: 'error'; message: string };

const DEVICE_LABEL: Record<Device, string> = { webgpu: 'WebGPU', wasm: 'CPU (WASM)', cpu: 'CPU', remote: 'your server' };

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Folds one engine update into the panel's state. */
export function reduce(state: PanelState, update: CorrectionUpdate): PanelState {
  const device = 'device' in state ? state.device : undefined;
  const remoteHost = 'remoteHost' in state ? state.remoteHost : undefined;
  switch (update.kind) {
    case 'queued':
      return { phase: 'queued', position: update.position };
    case 'consent':
      return { phase: 'consent', model: update.model, host: update.host, bytes: update.bytes, keptBytes: update.keptBytes };
    case 'convert':
      return { phase: 'converting', bytesRead: update.bytesRead, bytesTotal: update.bytesTotal, tensorsDone: update.tensorsDone, tensorsTotal: update.tensorsTotal, etaMs: update.etaMs };
    case 'download':
      return { phase: 'downloading', loaded: update.loaded, total: update.total, files: update.files, filesDone: update.filesDone };
    case 'loading':
      return { phase: 'loading', device: update.device, note: update.fallbackReason };
    case 'correcting':
      return { phase: 'correcting', device: update.device, text: '', part: 1, parts: 1, remoteHost: update.remoteHost };
    case 'text': {
      const previous = state.phase === 'correcting' ? state.text : '';
      return {
        phase: 'correcting',
        device: device ?? 'wasm',
        // A delta that does not fit (it cannot happen on an ordered port) keeps what is shown.
        text: applyTextDelta(previous, update) ?? previous,
        part: update.part,
        parts: update.parts,
        remoteHost,
      };
    }
    case 'done':
      return { phase: 'done', text: update.text, notes: update.notes, device, remoteHost, ms: update.ms };
    case 'error':
      return { phase: 'error', message: update.message };
  }
}

/** What the finished correction amounts to: a verdict on the output, and the diff when usable. */
export function summarise(original: string, question: string, corrected: string): { verdict: OutputVerdict; diff: DiffPart[]; changes: number } {
  const verdict = judgeCorrection({ question, original, corrected });
  if (!verdict.usable) return { verdict, diff: [], changes: 0 };
  const diff = diffAnswer(original, corrected);
  return { verdict, diff, changes: countChanges(diff) };
}

/**
 * The live Changes view while text streams: the diff of the paragraphs the model has finished
 * (up to its last blank line) against the original; what the model has not reached yet is shown
 * as the original, pending, instead of as removed.
 */
export function settledDiff(original: string, streamed: string): { diff: DiffPart[]; pending: string } {
  const settledEnd = streamed.lastIndexOf('\n\n');
  if (settledEnd <= 0) return { diff: [], pending: original };
  const diff = diffAnswer(original, streamed.slice(0, settledEnd + 2));
  // Trailing removals are the part of the original not corrected yet.
  let pending = '';
  while (diff.length > 0 && diff[diff.length - 1]!.kind === 'removed') pending = diff.pop()!.text + pending;
  return { diff, pending };
}

function statusText(state: PanelState, summary: { verdict: OutputVerdict; changes: number } | null): string {
  switch (state.phase) {
    case 'idle':
      return 'Realign can correct this answer.';
    case 'queued':
      return state.position <= 1 ? 'Waiting: next.' : `Waiting: ${state.position} in line.`;
    case 'consent':
      return state.keptBytes !== undefined
        ? `Realign needs to download and convert its model once: ${state.model}, ${state.bytes > 0 ? `a ${formatBytes(state.bytes)} download` : 'its weights'} from ${hostOf(state.host)}${state.keptBytes > 0 ? ` (${formatBytes(state.keptBytes)} kept)` : ''}. It then runs on this device.`
        : `Realign needs to download its model once: ${state.model}${state.bytes > 0 ? `, ${formatBytes(state.bytes)}` : ''}, from ${hostOf(state.host)}. It then runs on this device.`;
    case 'converting':
      return `Converting the model for your browser: ${formatBytes(state.bytesRead)} of ${formatBytes(state.bytesTotal)} read, part ${state.tensorsDone} of ${state.tensorsTotal}${state.etaMs >= 0 ? `, about ${formatDuration(state.etaMs)} left` : ''}.`;
    case 'downloading':
      return state.total > 0 ? `Downloading the model: ${formatBytes(state.loaded)} of ${formatBytes(state.total)}` : 'Downloading the model…';
    case 'loading':
      return `Loading the model on ${DEVICE_LABEL[state.device]}…`;
    case 'correcting':
      return state.parts > 1
        ? `Correcting part ${state.part} of ${state.parts} on ${DEVICE_LABEL[state.device]}…`
        : `Correcting on ${DEVICE_LABEL[state.device]}…`;
    case 'done': {
      if (summary && !summary.verdict.usable) return `${summary.verdict.message} The answer is unchanged.`;
      const changes = summary?.changes ?? 0;
      const count = changes === 0 ? 'No changes needed' : changes === 1 ? '1 change' : `${changes} changes`;
      return state.device ? `${count} · ${DEVICE_LABEL[state.device]} · ${formatSeconds(state.ms)}` : count;
    }
    case 'error':
      return state.message;
  }
}

/**
 * Model output can be anything: if rendering it ever throws, show it as plain text instead of
 * leaving the panel stuck.
 */
class PlainTextOnError extends Component<{ text: string; children: ComponentChildren }, { failed: boolean }> {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  componentDidUpdate(previous: { text: string }) {
    if (previous.text !== this.props.text && this.state.failed) this.setState({ failed: false });
  }
  render() {
    return this.state.failed ? <p class="rl-plain">{this.props.text}</p> : this.props.children;
  }
}

/**
 * Only a person's own input acts: a page script can call `click()` on anything it can reach,
 * and those events are not trusted. (The shadow root is closed too, so it cannot reach it.)
 */
const trusted =
  (action: () => void) =>
  (event: Event): void => {
    if (!event.isTrusted) return;
    action();
  };

export function Panel(props: PanelProps) {
  const [state, setState] = useState<PanelState>({ phase: 'idle' });
  const [view, setView] = useState<'changes' | 'corrected'>(props.initialView === 'corrected' ? 'corrected' : 'changes');
  const [collapsed, setCollapsed] = useState(props.initialView === 'original');
  const [question, setQuestion] = useState(props.question);
  const [copied, setCopied] = useState(false);
  const handle = useRef<{ cancel(): void; approve(): void } | null>(null);

  const run = () => {
    handle.current?.cancel();
    setState({ phase: 'queued', position: 1 });
    handle.current = props.start(question, (update) => setState((current) => reduce(current, update)));
  };

  useEffect(() => {
    if (props.autoStart && !props.askQuestion) run();
    return () => handle.current?.cancel();
  }, []);

  useEffect(() => props.onState?.(state.phase), [state.phase]);

  const finalText = state.phase === 'done' ? state.text : null;
  const summary = useMemo(() => (finalText === null ? null : summarise(props.original, question, finalText)), [finalText]);
  const streamed = state.phase === 'correcting' ? state.text : '';
  const settledEnd = streamed.lastIndexOf('\n\n');
  // The finished paragraphs: diffed and rendered once each time one is finished (not on every
  // streamed token), and the diff only while the Changes view shows.
  const settled = settledEnd > 0 ? streamed.slice(0, settledEnd + 2) : '';
  const liveShown = state.phase === 'correcting' && view === 'changes' && !collapsed;
  const live = useMemo(() => (liveShown ? settledDiff(props.original, settled) : null), [liveShown, settled]);
  const liveNodes = useMemo(() => (live ? renderDiff(live.diff) : null), [live]);
  const settledNodes = useMemo(() => (settled ? renderMarkdownCached(settled) : null), [settled]);
  const usable = summary?.verdict.usable ?? false;
  const unchanged = state.phase === 'done' && usable && summary!.changes === 0;
  const busy = state.phase === 'queued' || state.phase === 'downloading' || state.phase === 'converting' || state.phase === 'loading' || state.phase === 'correcting';
  const hasText = (state.phase === 'done' && usable && !unchanged) || (state.phase === 'correcting' && streamed !== '');
  const remoteHost = 'remoteHost' in state ? state.remoteHost : undefined;
  const succeeded = state.phase === 'done' && usable;

  const choose = (next: 'changes' | 'corrected') => {
    setView(next);
    setCollapsed(false);
    props.onViewChange?.(next);
  };
  const toggleCollapsed = () => {
    setCollapsed(!collapsed);
    props.onViewChange?.(collapsed ? view : 'original');
  };

  const copy = async () => {
    if (!finalText) return;
    try {
      await navigator.clipboard.writeText(finalText);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };

  const stop = () => {
    handle.current?.cancel();
    setState({ phase: 'idle' });
  };

  const tabs: Array<['changes' | 'corrected', string]> = [
    ['changes', 'Changes'],
    ['corrected', 'Corrected'],
  ];

  let body: ComponentChildren = null;
  if (hasText && !collapsed) {
    let content: ComponentChildren;
    if (state.phase === 'done') {
      content =
        view === 'corrected' ? (
          <PlainTextOnError text={state.text}>{renderMarkdownCached(state.text)}</PlainTextOnError>
        ) : (
          <div class="rl-diff">{renderDiff(summary!.diff)}</div>
        );
    } else if (view === 'changes' && live && live.diff.length > 0) {
      content = (
        <div class="rl-diff">
          {liveNodes}
          <span class="rl-pending">{live.pending}</span>
        </div>
      );
    } else {
      // While text streams, Markdown is lexed once per finished paragraph; the paragraph being
      // written shows as plain text until it ends.
      content = (
        <PlainTextOnError text={streamed}>
          {settledNodes}
          <p class="rl-plain">{streamed.slice(settled.length)}</p>
        </PlainTextOnError>
      );
    }
    body = (
      <div class="rl-body" role="tabpanel" data-testid={`realign-${view}`}>
        {content}
      </div>
    );
  }

  return (
    <section class="rl-panel" data-theme={props.theme} data-phase={state.phase} data-quiet={unchanged || undefined} aria-label="Realign correction">
      <div class="rl-bar">
        {succeeded && (
          <span class="rl-logo" aria-hidden="true">
            ✓
          </span>
        )}
        <span class="rl-status" role="status" aria-live="polite" data-testid="realign-status">
          {statusText(state, summary)}
        </span>
        {hasText && !collapsed && (
          <div class="rl-tabs" role="tablist" aria-label="Realign view">
            {tabs.map(([id, label]) => (
              <button type="button" role="tab" class="rl-tab" aria-selected={view === id} data-view={id} onClick={trusted(() => choose(id))}>
                {label}
              </button>
            ))}
          </div>
        )}
        <div class="rl-actions">
          {succeeded && !unchanged && (
            <button type="button" class="rl-button" onClick={trusted(() => void copy())} data-action="copy">
              {copied ? 'Copied' : 'Copy'}
            </button>
          )}
          {state.phase === 'consent' && (
            <>
              <button
                type="button"
                class="rl-button rl-primary"
                onClick={trusted(() => {
                  handle.current?.approve();
                  setState({ phase: 'queued', position: 1 });
                })}
                data-action="approve"
              >
                Download and correct
              </button>
              <button type="button" class="rl-button" onClick={trusted(stop)} data-action="not-now">
                Not now
              </button>
            </>
          )}
          {state.phase === 'idle' && !props.askQuestion && (
            <button type="button" class="rl-button rl-primary" onClick={trusted(run)} data-action="realign">
              Realign
            </button>
          )}
          {(state.phase === 'done' || state.phase === 'error') && (
            <button type="button" class="rl-button" onClick={trusted(run)} data-action="retry" title="Correct this answer again">
              {state.phase === 'error' || !usable ? 'Retry' : 'Again'}
            </button>
          )}
          {busy && (
            <button type="button" class="rl-button" onClick={trusted(stop)} data-action="stop">
              Stop
            </button>
          )}
          {hasText && (
            <button
              type="button"
              class="rl-button rl-icon"
              onClick={trusted(toggleCollapsed)}
              aria-expanded={!collapsed}
              aria-label={collapsed ? 'Show the correction' : 'Hide the correction'}
              title={collapsed ? 'Show the correction' : 'Hide the correction'}
              data-action="collapse"
            >
              {collapsed ? '▸' : '▾'}
            </button>
          )}
          <button type="button" class="rl-button rl-icon" onClick={trusted(props.onDismiss)} aria-label="Dismiss Realign panel" title="Dismiss" data-action="dismiss">
            ✕
          </button>
        </div>
      </div>
      {state.phase === 'downloading' && state.total > 0 && <progress class="rl-progress" max={state.total} value={state.loaded} aria-label="Model download" />}
      {state.phase === 'converting' && state.bytesTotal > 0 && (
        <progress class="rl-progress" max={state.bytesTotal} value={state.bytesRead} aria-label="Model conversion" />
      )}
      {state.phase === 'loading' && state.note && <p class="rl-note">{state.note}</p>}
      {remoteHost && <p class="rl-note">This answer was sent to {remoteHost} for correction.</p>}
      {state.phase === 'idle' && props.askQuestion && (
        <form
          class="rl-ask"
          onSubmit={(event) => {
            event.preventDefault();
            if (event.isTrusted) run();
          }}
        >
          <label>
            Question this answer replies to (optional)
            <input value={question} onInput={(event) => setQuestion((event.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="rl-button rl-primary" data-action="realign">
            Realign
          </button>
        </form>
      )}
      {body}
      {state.phase === 'done' && !usable && state.text.trim() !== '' && (
        <details class="rl-raw">
          <summary>What the model wrote</summary>
          <p class="rl-plain">{state.text}</p>
        </details>
      )}
      {state.phase === 'done' && state.notes.length > 0 && (
        <ul class="rl-notes">
          {state.notes.map((note) => (
            <li>{note}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
