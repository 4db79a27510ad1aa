// `npm run align -- …`: see scripts/align/cli.ts (and `--help`).
import { runCli } from './align/cli';

// Ctrl-C or SIGTERM: stop taking records, write what is done, say so, exit 130. A second one exits at once.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupt.signal,
});
