// Test servers (and `npm start`) bind loopback. A port another program holds fails at once with
// a message naming the port and the program, never a hook timeout.
import { createServer } from 'node:http';
import { expect, test } from 'vitest';
import { listenOnLoopback, PortInUseError, programListeningOn } from '../../support/loopback';
import { startHubServer } from '../../support/hub-server';

test('a taken port is refused at once, naming the port and the program that holds it', async () => {
  const holder = await listenOnLoopback(createServer());
  try {
    const started = Date.now();
    const error = await startHubServer({ repos: {}, port: holder.port }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toContain(`Port ${holder.port}`);
    // This very process holds it.
    expect((error as Error).message).toContain(`(pid ${process.pid})`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(programListeningOn(holder.port)).toContain(`pid ${process.pid}`);
  } finally {
    await holder.close();
  }
});

test('port 0 always finds a free port, also while another server runs', async () => {
  const first = await listenOnLoopback(createServer());
  const second = await listenOnLoopback(createServer());
  expect(second.port).not.toBe(first.port);
  expect(second.url).toBe(`http://127.0.0.1:${second.port}`);
  await Promise.all([first.close(), second.close()]);
});
