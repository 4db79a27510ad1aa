import type { PortLike } from '../../utils/task-port';

/**
 * Two connected runtime ports, as the browser gives them: a message posted on one arrives on the
 * other in a later task, structured-cloned; disconnecting one fires onDisconnect on the other only.
 */
export function portPair(name: string): [PortLike, PortLike] {
  const make = () => {
    const messageListeners: Array<(message: unknown) => void> = [];
    const disconnectListeners: Array<() => void> = [];
    return { messageListeners, disconnectListeners, open: true };
  };
  const sides = [make(), make()] as const;
  const port = (self: 0 | 1): PortLike => {
    const other = sides[self === 0 ? 1 : 0];
    const mine = sides[self];
    return {
      name,
      postMessage(message) {
        if (!mine.open) throw new Error('Attempting to use a disconnected port object');
        const copy = structuredClone(message);
        setTimeout(() => {
          if (other.open) for (const listener of other.messageListeners) listener(copy);
        }, 0);
      },
      disconnect() {
        if (!mine.open) return;
        mine.open = false;
        other.open = false;
        setTimeout(() => {
          for (const listener of other.disconnectListeners) listener();
        }, 0);
      },
      onMessage: { addListener: (listener) => void mine.messageListeners.push(listener) },
      onDisconnect: { addListener: (listener) => void mine.disconnectListeners.push(listener) },
    };
  };
  return [port(0), port(1)];
}
