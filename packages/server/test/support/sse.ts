/**
 * A minimal SSE client for the revocation feed tests: collects every message. node:http with
 * one socket per stream (no pooling), so closing a stream leaves no spare connection behind.
 */

import { request } from 'node:http';

export interface SseMessage {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: Headers;
  /** Every message so far, in order. */
  readonly messages: SseMessage[];
  /** The raw text received so far. */
  text(): string;
  /** Resolves when the server ended the stream (or it failed). */
  readonly ended: Promise<void>;
  /** Waits until `predicate(messages)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (messages: SseMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  /** The revocation events so far, parsed. */
  revocations(): { id: number; kind: string; value: string; at: number; expires_at: number }[];
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseConnection> {
  const req = request(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } });
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const messages: SseMessage[] = [];
  let raw = '';
  let buffer = '';
  let waiters: (() => void)[] = [];
  const notify = () => {
    for (const w of waiters) w();
  };
  const parse = () => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end < 0) return;
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) messages.push({ event, data: data.join('\n'), id });
    }
  };
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    raw += chunk;
    buffer += chunk;
    parse();
    notify();
  });
  const ended = new Promise<void>((resolve) => {
    res.once('close', () => resolve());
    res.once('error', () => resolve());
    req.once('error', () => resolve());
  });
  let isEnded = false;
  void ended.then(() => {
    isEnded = true;
    notify();
  });
  return {
    status: res.statusCode ?? 0,
    headers: responseHeaders,
    messages,
    text: () => raw,
    ended,
    revocations: () => messages.filter((m) => m.event === 'revocation').map((m) => JSON.parse(m.data)),
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(messages)) {
            cleanup();
            resolve();
          } else if (isEnded) {
            cleanup();
            reject(new Error(`stream ended before the condition held; got ${JSON.stringify(messages)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
        };
        waiters.push(check);
        check();
      });
    },
    close: () => req.destroy(),
  };
}
