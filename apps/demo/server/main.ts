/** `npm start`: runs the demo on http://localhost:8080 (or TESSERA_PORT) until SIGINT/SIGTERM. */

import { startDemo } from './start-demo.js';

const demo = await startDemo();
process.stderr.write(
  `\ntessera demo: ${demo.url}\n  app      ${demo.url}/\n  decoder  ${demo.url}/decoder\n  API      ${demo.url}/api/hello\n\n`,
);

function stop(signal: string): void {
  process.stderr.write(`tessera demo: ${signal} received, shutting down\n`);
  demo.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`tessera demo: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
