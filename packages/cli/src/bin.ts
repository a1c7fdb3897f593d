#!/usr/bin/env node
/** The `tessera` executable: {@link run} wired to the process. */

import { run } from './run.js';
import { readStream } from './stdin.js';

// `tessera decode x | head -1`: a closed pipe is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readStream(process.stdin),
  env: process.env,
});
