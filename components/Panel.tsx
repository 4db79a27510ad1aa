import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { applyTextDelta, type CorrectionUpdate, type Device } from '../utils/messages';
import type { PanelView } from '../utils/messages';
import { countChanges, diffAnswer } from '../utils/diff';
import { renderDiff, renderMarkdown } from '../utils/markdown';

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
  | { phase: 'consent'; model: string; host: string; bytes: number }
  | { phase: 'downloading'; loaded: number; total: number; files: number; filesDone: number }
  | { phase: 'loading'; device: Device; note?: string }
  | { phase: 'correcting'; device: Device; text: string; part: number; parts: number; remoteHost?: string }
  | { phase: 'done'; text: string; notes: string[]; device?: Device; remoteHost?: string; ms: number }
  | { phase: 'error'; message: string };

const DEVICE_LABEL: Record<Device, string> = { webgpu: 'WebGPU', wasm: 'WASM (CPU)', cpu: 'CPU', remote: 'remote server' };

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

/** Folds one engine update into the panel's state. */
export function reduce(state: PanelState, update: CorrectionUpdate): PanelState {
  const device = 'device' in state ? state.device : undefined;
  const remoteHost = 'remoteHost' in state ? state.remoteHost : undefined;
  switch (update.kind) {
    case 'queued':
      return { phase: 'queued', position: update.position };
    case 'consent':
      return { phase: 'consent', model: update.model, host: update.host, bytes: update.bytes };
    case 'download':
      return { phase: 'downloading', ...update };
    case 'loading':
      return { phase: 'loading', device: update.device, note: update.fallbackReason };
    case 'correcting':
      return { phase: 'correcting', device: update.device, text: '', part: 1, parts: 1, remoteHost: update.remoteHost };
    case 'text':
      return {
        phase: 'correcting',
        device: device ?? 'wasm',
        // A delta that does not fit (it cannot happen on an ordered port) keeps what is shown.
        text: applyTextDelta(state.phase === 'correcting' ? state.text : '', update) ?? (state.phase === 'correcting' ? state.text : ''),
        part: update.part,
        parts: update.parts,
        remoteHost,
      };
    case 'done':
      return { phase: 'done', text: update.text, notes: update.notes, device, remoteHost, ms: update.ms };
    case 'error':
      return { phase: 'error', message: update.message };
  }
}

function statusText(state: PanelState, changes: number): string {
  switch (state.phase) {
    case 'idle':
      return 'Realign can correct this answer.';
    case 'queued':
      return state.position <= 1 ? 'Queued: next.' : `Queued: ${state.position} in line.`;
    case 'consent':
      return `Realign needs to download its model once: ${state.model}${state.bytes > 0 ? `, ${formatBytes(state.bytes)}` : ''}, from ${hostOf(state.host)}. It then runs on this device.`;
    case 'downloading':
      return state.total > 0
        ? `Downloading the model: ${formatBytes(state.loaded)} of ${formatBytes(state.total)}`
        : 'Downloading the model…';
    case 'loading':
      return `Loading the model on ${DEVICE_LABEL[state.device]}…`;
    case 'correcting':
      return state.parts > 1
        ? `Correcting part ${state.part} of ${state.parts} on ${DEVICE_LABEL[state.device]}…`
        : `Correcting on ${DEVICE_LABEL[state.device]}…`;
    case 'done': {
      const count = changes === 0 ? 'No changes needed.' : changes === 1 ? '1 change.' : `${changes} changes.`;
      const where = state.device ? ` ${DEVICE_LABEL[state.device]}, ${(state.ms / 1000).toFixed(1)} s.` : '';
      return count + where;
    }
    case 'error':
      return state.message;
  }
}

export function Panel(props: PanelProps) {
  const [state, setState] = useState<PanelState>({ phase: 'idle' });
  const [view, setView] = useState<PanelView>(props.initialView);
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

  const corrected = state.phase === 'done' ? state.text : state.phase === 'correcting' ? state.text : '';
  const diff = useMemo(
    () => (state.phase === 'done' ? diffAnswer(props.original, state.text) : []),
    [state.phase === 'done' ? state.text : null],
  );
  const changes = state.phase === 'done' ? countChanges(diff) : 0;
  const busy = state.phase === 'queued' || state.phase === 'downloading' || state.phase === 'loading' || state.phase === 'correcting';
  const hasResult = state.phase === 'done' || (state.phase === 'correcting' && corrected !== '');
  const remoteHost = 'remoteHost' in state ? state.remoteHost : undefined;

  const choose = (next: PanelView) => {
    setView(next);
    props.onViewChange?.(next);
  };

  const copy = async () => {
    if (!corrected) return;
    try {
      await navigator.clipboard.writeText(corrected);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };

  const tabs: Array<[PanelView, string]> = [
    ['original', 'Original'],
    ['corrected', 'Corrected'],
    ['changes', 'Changes'],
  ];

  return (
    <section class="rl-panel" data-theme={props.theme} data-phase={state.phase} aria-label="Realign correction">
      <div class="rl-bar">
        <span class="rl-logo" aria-hidden="true">
          ✓
        </span>
        <span class="rl-status" role="status" aria-live="polite" data-testid="realign-status">
          {statusText(state, changes)}
        </span>
        {hasResult && (
          <div class="rl-tabs" role="tablist" aria-label="Realign view">
            {tabs.map(([id, label]) => (
              <button
                type="button"
                role="tab"
                class="rl-tab"
                aria-selected={view === id}
                data-view={id}
                onClick={() => choose(id)}
              >
                {label}
              </button>
            ))}
          </div>
        )}
        <div class="rl-actions">
          {state.phase === 'done' && (
            <button type="button" class="rl-button" onClick={copy} data-action="copy">
              {copied ? 'Copied' : 'Copy corrected'}
            </button>
          )}
          {state.phase === 'consent' && (
            <>
              <button type="button" class="rl-button rl-primary" onClick={() => { handle.current?.approve(); setState({ phase: 'queued', position: 1 }); }} data-action="approve">
                Download and correct
              </button>
              <button type="button" class="rl-button" onClick={() => { handle.current?.cancel(); setState({ phase: 'idle' }); }} data-action="not-now">
                Not now
              </button>
            </>
          )}
          {state.phase === 'idle' && !props.askQuestion && (
            <button type="button" class="rl-button rl-primary" onClick={run} data-action="realign">
              Realign
            </button>
          )}
          {(state.phase === 'done' || state.phase === 'error') && (
            <button type="button" class="rl-button" onClick={run} data-action="retry">
              {state.phase === 'error' ? 'Retry' : 'Realign'}
            </button>
          )}
          {busy && (
            <button type="button" class="rl-button" onClick={() => { handle.current?.cancel(); setState({ phase: 'idle' }); }} data-action="stop">
              Stop
            </button>
          )}
          <button type="button" class="rl-button rl-dismiss" onClick={props.onDismiss} aria-label="Dismiss Realign panel" data-action="dismiss">
            ✕
          </button>
        </div>
      </div>
      {state.phase === 'downloading' && state.total > 0 && (
        <progress class="rl-progress" max={state.total} value={state.loaded} aria-label="Model download" />
      )}
      {state.phase === 'loading' && state.note && <p class="rl-note">{state.note}</p>}
      {remoteHost && <p class="rl-note">This answer was sent to {remoteHost} for correction.</p>}
      {state.phase === 'idle' && props.askQuestion && (
        <form
          class="rl-ask"
          onSubmit={(event) => {
            event.preventDefault();
            run();
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
      {hasResult && view !== 'original' && (
        <div class="rl-body" role="tabpanel" data-testid={`realign-${view}`}>
          {view === 'corrected' || state.phase !== 'done' ? renderMarkdown(corrected) : <div class="rl-diff">{renderDiff(diff)}</div>}
        </div>
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
