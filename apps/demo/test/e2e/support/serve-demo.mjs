// Child-process entry for the e2e tests: starts the BUILT demo server (`startDemo()` from
// apps/demo/dist-server) with the JSON options in argv[3], prints `{"e2eDemoUrl": ...}` on one line (other lines are the server's log)
// when it listens, and closes cleanly on SIGTERM. A separate process keeps the server on its
// own event loop (the browser's refresh races are real races) and out of vitest's module graph.
import { pathToFileURL } from 'node:url';

const [modulePath, optionsJson] = process.argv.slice(2);
const { startDemo } = await import(pathToFileURL(modulePath).href);
const demo = await startDemo(JSON.parse(optionsJson));
process.stdout.write(`${JSON.stringify({ e2eDemoUrl: demo.url })}\n`);

let closing = false;
async function shutDown() {
  if (closing) return;
  closing = true;
  await demo.close();
  process.exit(0);
}
process.on('SIGTERM', shutDown);
process.on('SIGINT', shutDown);
