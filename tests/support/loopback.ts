import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A port that could not be bound: the message names the port and, where it can, the program holding it. */
export class PortInUseError extends Error {
  constructor(readonly port: number, holder: string | null) {
    super(
      `Port ${port} on 127.0.0.1 is already in use${holder ? ` by ${holder}` : ' by another program'}. ` +
        `Stop that program${holder ? '' : ' (`ss -ltnp` shows which one)'}, or leave the port to this one.`,
    );
    this.name = 'PortInUseError';
  }
}

/**
 * Starts a test server on 127.0.0.1 (the only address tests may use) and gives back its URL and
 * a close() that also ends open connections (streams, keep-alive), so a test never hangs on one.
 * Port 0 (the default) takes a free port; a fixed port that is taken fails at once with a
 * PortInUseError, never a hang.
 */
export async function listenOnLoopback(server: Server, port = 0): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done, fail) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      fail(error.code === 'EADDRINUSE' ? new PortInUseError(port, programListeningOn(port)) : error);
    };
    const onListening = () => {
      server.off('error', onError);
      done();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

/**
 * Which program listens on a TCP port, read from /proc (Linux): the socket's inode in
 * /proc/net/tcp{,6}, then the process holding that inode. Null where that cannot be known
 * (another OS, another user's process).
 */
export function programListeningOn(port: number): string | null {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let lines: string[];
      try {
        lines = readFileSync(table, 'utf8').split('\n').slice(1);
      } catch {
        continue;
      }
      for (const line of lines) {
        const fields = line.trim().split(/\s+/);
        // local_address is ADDR:PORT; state 0A is LISTEN; the inode is field 9.
        if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
      }
    }
    if (inodes.size === 0) return null;
    for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) {
          const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
          return `${command.slice(0, 120) || 'a process'} (pid ${pid})`;
        }
      }
    }
  } catch {
    /* best effort: the port number alone still says what to look for */
  }
  return null;
}
