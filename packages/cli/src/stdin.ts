/** Reading standard input with a size bound (tokens are small; a runaway pipe is not). */

export const STDIN_MAX_BYTES = 1024 * 1024;

/** Reads a whole stream as UTF-8, failing once it exceeds `maxBytes`. */
export async function readStream(stream: AsyncIterable<Buffer | string>, maxBytes = STDIN_MAX_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buffer.byteLength;
    if (total > maxBytes) throw new RangeError(`standard input is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
