/** Shared option validation: configuration mistakes throw `TypeError` naming the field. */

export function checkInteger(value: unknown, field: string, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${field} must be an integer from ${min} to ${max}${unit === '' ? '' : ` ${unit}`}`);
  }
  return value;
}

export function checkNonEmptyString(value: unknown, field: string, maxLength = 2048): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new TypeError(`${field} must be a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

/** A string or a non-empty array of strings, returned as a frozen set. */
export function checkStringOrList(value: unknown, field: string): ReadonlySet<string> {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(`${field} must be a non-empty string or a non-empty array of strings`);
  }
  for (const item of list) checkNonEmptyString(item, field);
  return new Set(list as string[]);
}
