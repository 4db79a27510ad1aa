/**
 * Streaming requests over runtime ports: one helper for every long-running exchange (a
 * correction from a tab, a job on the engine host). A client starts a task with a request,
 * may send signals to it (e.g. "approve") or cancel it, and receives events until a final one
 * (`done`/`error`/`ok`). The port closing ends every open task with the channel's error. Every
 * message is validated on arrival against the channel's schemas; anything else is dropped.
 *
 * Wire format (all messages carry the task id, so one port can carry many tasks):
 *   client → server  { t: 'start', id, request } | { t: 'signal', id, signal } | { t: 'cancel', id }
 *   server → client  { t: 'event', id, seq, event }   (seq counts from 0 per task: no gaps)
 */
import { messageOf } from './errors';
import * as v from 'valibot';
import {
  CorrectionRequestSchema,
  CorrectionSignalSchema,
  CorrectionUpdateSchema,
  EngineEventSchema,
  EngineRequestSchema,
  isFinalEngineEvent,
  isFinalUpdate,
} from './messages';

/** The parts of a runtime.Port used here (tests pass fakes). */
export interface PortLike {
  name: string;
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(listener: (message: unknown) => void): void };
  onDisconnect: { addListener(listener: () => void): void };
}

export interface Channel<Request, Signal, Event> {
  /** The port name. */
  name: string;
  request: v.GenericSchema<unknown, Request>;
  signal: v.GenericSchema<unknown, Signal>;
  event: v.GenericSchema<unknown, Event>;
  isFinal(event: Event): boolean;
  /** What an open task receives when the port closes under it. */
  disconnected: Event;
}

type AnyChannel = Channel<any, any, any>;
type RequestOf<C> = C extends Channel<infer R, any, any> ? R : never;
type SignalOf<C> = C extends Channel<any, infer S, any> ? S : never;
type EventOf<C> = C extends Channel<any, any, infer E> ? E : never;

const taskId = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
const ClientWireSchema = v.variant('t', [
  v.object({ t: v.literal('start'), id: taskId, request: v.unknown() }),
  v.object({ t: v.literal('signal'), id: taskId, signal: v.unknown() }),
  v.object({ t: v.literal('cancel'), id: taskId }),
]);
const ServerWireSchema = v.object({ t: v.literal('event'), id: taskId, seq: v.pipe(v.number(), v.integer(), v.minValue(0)), event: v.unknown() });

/** One correction: a tab asks the background (one port per correction). */
export const CORRECTION_CHANNEL: Channel<
  v.InferOutput<typeof CorrectionRequestSchema>,
  v.InferOutput<typeof CorrectionSignalSchema>,
  v.InferOutput<typeof CorrectionUpdateSchema>
> = {
  name: 'realign/correct',
  request: CorrectionRequestSchema,
  signal: CorrectionSignalSchema,
  event: CorrectionUpdateSchema,
  isFinal: isFinalUpdate,
  disconnected: { kind: 'error', message: "The correction stopped: Realign's background restarted. Press Retry." },
};

/** The engine service's jobs: the background asks the engine page (one port, many tasks). */
export const ENGINE_CHANNEL: Channel<v.InferOutput<typeof EngineRequestSchema>, never, v.InferOutput<typeof EngineEventSchema>> = {
  name: 'realign/engine-host',
  request: EngineRequestSchema,
  signal: v.never(),
  event: EngineEventSchema,
  isFinal: isFinalEngineEvent,
  disconnected: { kind: 'error', message: 'The correction stopped: the engine closed unexpectedly. Press Retry to run it again.' },
};

export interface TaskHandle<Signal> {
  signal(signal: Signal): void;
  cancel(): void;
}

/** The client end: starts tasks on one port and routes each event to its task. */
export class TaskClient<C extends AnyChannel> {
  private readonly open = new Map<string, { onEvent: (event: EventOf<C>) => void; seq: number }>();
  private closed = false;
  private sequence = 0;

  constructor(
    private readonly port: PortLike,
    private readonly channel: C,
  ) {
    port.onMessage.addListener((raw) => {
      const wire = v.safeParse(ServerWireSchema, raw);
      if (!wire.success) return;
      const task = this.open.get(wire.output.id);
      const event = v.safeParse(channel.event, wire.output.event);
      // An event out of order or malformed means the stream can no longer be trusted: end it.
      if (!task) return;
      if (!event.success || wire.output.seq !== task.seq) {
        this.finish(wire.output.id, channel.disconnected);
        return;
      }
      task.seq += 1;
      if (channel.isFinal(event.output)) this.open.delete(wire.output.id);
      task.onEvent(event.output);
    });
    port.onDisconnect.addListener(() => {
      this.closed = true;
      for (const id of [...this.open.keys()]) this.finish(id, channel.disconnected);
    });
  }

  get connected(): boolean {
    return !this.closed;
  }

  start(request: RequestOf<C>, onEvent: (event: EventOf<C>) => void, id = `t${++this.sequence}`): TaskHandle<SignalOf<C>> {
    if (this.closed) {
      queueMicrotask(() => onEvent(this.channel.disconnected));
      return { signal: () => undefined, cancel: () => undefined };
    }
    this.open.set(id, { onEvent, seq: 0 });
    this.post({ t: 'start', id, request });
    return {
      signal: (signal) => {
        if (this.open.has(id)) this.post({ t: 'signal', id, signal });
      },
      cancel: () => {
        if (!this.open.delete(id)) return;
        this.post({ t: 'cancel', id });
      },
    };
  }

  private finish(id: string, event: EventOf<C>): void {
    const task = this.open.get(id);
    if (!task) return;
    this.open.delete(id);
    task.onEvent(event);
  }

  private post(message: unknown): void {
    try {
      this.port.postMessage(message);
    } catch {
      // The port went away; onDisconnect ends the tasks.
    }
  }
}

export interface TaskContext<Signal, Event> {
  /** Aborted when the client cancels the task or the port closes. */
  signal: AbortSignal;
  emit(event: Event): void;
  onSignal(listener: (signal: Signal) => void): void;
}

/**
 * The server end: runs `handler` for each task started on the port. The handler emits events;
 * the task ends at its first final event (later ones are dropped). A handler that returns or
 * throws without a final event ends the task with an error.
 */
export function serveTasks<C extends AnyChannel>(
  port: PortLike,
  channel: C,
  handler: (request: RequestOf<C>, task: TaskContext<SignalOf<C>, EventOf<C>>) => void | Promise<void>,
  options: { onMalformed?: (raw: unknown) => void } = {},
): void {
  const tasks = new Map<string, { controller: AbortController; signalListeners: Array<(signal: SignalOf<C>) => void> }>();
  let disconnected = false;
  const post = (message: unknown) => {
    if (disconnected) return;
    try {
      port.postMessage(message);
    } catch {
      disconnected = true;
    }
  };
  port.onMessage.addListener((raw) => {
    const wire = v.safeParse(ClientWireSchema, raw);
    if (!wire.success) {
      options.onMalformed?.(raw);
      return;
    }
    const message = wire.output;
    if (message.t === 'cancel') {
      tasks.get(message.id)?.controller.abort();
      return;
    }
    if (message.t === 'signal') {
      const signal = v.safeParse(channel.signal, message.signal);
      const task = tasks.get(message.id);
      if (!signal.success || !task) return;
      for (const listener of task.signalListeners) listener(signal.output);
      return;
    }
    if (tasks.has(message.id)) return; // one start per id
    const request = v.safeParse(channel.request, message.request);
    let seq = 0;
    let ended = false;
    const emit = (event: EventOf<C>) => {
      if (ended) return;
      if (channel.isFinal(event)) {
        ended = true;
        tasks.delete(message.id);
      }
      post({ t: 'event', id: message.id, seq: seq++, event });
    };
    if (!request.success) {
      emit({ kind: 'error', message: 'Realign received a malformed request.' } as EventOf<C>);
      return;
    }
    const task = { controller: new AbortController(), signalListeners: [] as Array<(signal: SignalOf<C>) => void> };
    tasks.set(message.id, task);
    const context: TaskContext<SignalOf<C>, EventOf<C>> = {
      signal: task.controller.signal,
      emit,
      onSignal: (listener) => task.signalListeners.push(listener),
    };
    Promise.resolve()
      .then(() => handler(request.output, context))
      .then(
        () => {
          if (!ended && !context.signal.aborted) emit({ kind: 'error', message: 'The task ended without a result.' } as EventOf<C>);
        },
        (error: unknown) => emit({ kind: 'error', message: messageOf(error) } as EventOf<C>),
      )
      .finally(() => {
        if (!ended) tasks.delete(message.id);
      });
  });
  port.onDisconnect.addListener(() => {
    disconnected = true;
    for (const task of tasks.values()) task.controller.abort();
    tasks.clear();
  });
}
