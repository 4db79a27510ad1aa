/**
 * The background's correction queue: one generation at a time, the visible tab's requests first,
 * a bounded number waiting (a page with 200 answers cannot flood it: the oldest waiting request
 * is dropped with a message).
 */
export interface QueueItem {
  id: string;
  tabId: number;
}

export interface QueueOptions<T extends QueueItem> {
  maxWaiting: number;
  /** Whether the tab is the one the person is looking at now. */
  isVisible: (tabId: number) => boolean;
  /** Runs one item to its end (done, error or cancelled). */
  run: (item: T) => Promise<void>;
  /** Position 1 is next. Called whenever an item's place changes. */
  onPosition?: (item: T, position: number) => void;
  onDropped?: (item: T) => void;
  /** The number running or waiting changed. */
  onChange?: () => void;
}

export class CorrectionQueue<T extends QueueItem> {
  private waiting: T[] = [];
  private active: T | null = null;

  constructor(private readonly options: QueueOptions<T>) {}

  get running(): T | null {
    return this.active;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  enqueue(item: T): void {
    this.waiting.push(item);
    while (this.waiting.length > this.options.maxWaiting) {
      const dropped = this.waiting.shift()!;
      this.options.onDropped?.(dropped);
    }
    this.pump();
  }

  /** Removes a waiting item; returns false when it is not waiting (running or unknown). */
  remove(id: string): boolean {
    const index = this.waiting.findIndex((item) => item.id === id);
    if (index === -1) return false;
    this.waiting.splice(index, 1);
    this.announcePositions();
    return true;
  }

  /** The visible tab's items first, each group in arrival order. */
  private ordered(): T[] {
    const visible = this.waiting.filter((item) => this.options.isVisible(item.tabId));
    const hidden = this.waiting.filter((item) => !this.options.isVisible(item.tabId));
    return [...visible, ...hidden];
  }

  private announcePositions(): void {
    this.ordered().forEach((item, index) => this.options.onPosition?.(item, index + 1));
    this.options.onChange?.();
  }

  private pump(): void {
    if (this.active) {
      this.announcePositions();
      return;
    }
    const next = this.ordered()[0];
    if (!next) return;
    this.waiting.splice(this.waiting.indexOf(next), 1);
    this.active = next;
    this.announcePositions();
    void this.options
      .run(next)
      .catch(() => undefined)
      .finally(() => {
        this.active = null;
        this.options.onChange?.();
        this.pump();
      });
  }
}
