/** Scope checks on the space-delimited `scope` claim (RFC 6749 3.3), without allocating. */

/** RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function checkScopeList(value: unknown, field: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && s.length <= 256 && SCOPE_TOKEN.test(s))) {
    throw new TypeError(`${field} must be an array of RFC 6749 scope tokens`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

/** True when the space-delimited `scope` holds `wanted` as a whole token. */
function hasScope(scope: string, wanted: string): boolean {
  let from = 0;
  for (;;) {
    const at = scope.indexOf(wanted, from);
    if (at === -1) return false;
    const end = at + wanted.length;
    if ((at === 0 || scope.charCodeAt(at - 1) === 0x20) && (end === scope.length || scope.charCodeAt(end) === 0x20)) {
      return true;
    }
    from = at + 1;
  }
}

/** True when the `scope` claim grants every scope in `required`. */
export function hasScopes(scope: unknown, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  if (typeof scope !== 'string') return false;
  for (let i = 0; i < required.length; i++) {
    if (!hasScope(scope, required[i] as string)) return false;
  }
  return true;
}
