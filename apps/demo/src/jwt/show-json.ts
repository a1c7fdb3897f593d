/**
 * JSON text for showing a value on the page. Never throws: a value JSON.stringify cannot write
 * (nested too deep for the stack, a cycle, a BigInt) comes back as a short placeholder instead of
 * an exception that would leave the page half-updated.
 */

export interface ShowJsonOptions {
  /** Spaces per indentation level; 0 (the default) writes one line. */
  readonly indent?: number;
  /** Longer text is cut to this many characters and ends with `…`. */
  readonly maxLength?: number;
}

/** What {@link showJson} returns for a value it cannot write. */
export const UNSHOWABLE_JSON = '(cannot be shown)';

export function showJson(value: unknown, options: ShowJsonOptions = {}): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, options.indent ?? 0);
  } catch {
    return UNSHOWABLE_JSON;
  }
  // JSON.stringify(undefined) is undefined, not a string.
  const shown = text ?? String(value);
  const { maxLength } = options;
  return maxLength !== undefined && shown.length > maxLength ? `${shown.slice(0, maxLength)}…` : shown;
}
