import { type AccessTokenVerifier, AuthError, generateKey, type TesseraKey } from '@tessera/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  b64,
  b64json,
  defaultHeader,
  forge,
  ISSUER,
  NOW,
  splitSegments,
  validClaims,
  verifierFor,
} from './support/helpers.js';

const FUZZ_ALGS = ['HS256', 'ES256', 'EdDSA'] as const;
const MUTATION_RUNS = 2000;
const JSON_RUNS = 1000;

const keys = new Map<string, TesseraKey>();

beforeAll(async () => {
  for (const alg of FUZZ_ALGS) keys.set(alg, await generateKey(alg, { kid: `fuzz-${alg}` }));
});

function keyFor(alg: string): TesseraKey {
  return keys.get(alg) as TesseraKey;
}

type Outcome = { ok: true; claims: Record<string, unknown> } | { ok: false; code: string };

/** Verifies and classifies: a result, or an AuthError code. Anything else fails the property. */
function classify(verifier: AccessTokenVerifier, token: unknown): Outcome {
  try {
    return { ok: true, claims: verifier.verify(token) as Record<string, unknown> };
  } catch (error) {
    if (error instanceof AuthError) return { ok: false, code: error.code };
    throw new Error(`verify threw a non-AuthError: ${String(error)}`, { cause: error });
  }
}

// --- mutations ---------------------------------------------------------------------------------

const interestingChars = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''),
  '.',
  '=',
  '+',
  '/',
  '*',
  ' ',
  '\n',
  '\u0000',
  'é',
  '\u{1F511}',
  '%',
);

type Mutation =
  | { kind: 'flip'; at: number; char: string }
  | { kind: 'insert'; at: number; char: string }
  | { kind: 'delete'; at: number }
  | { kind: 'swap'; order: [number, number, number] }
  | { kind: 'reencode'; segment: 0 | 1; json: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; segment: 0 | 1 | 2 };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: interestingChars }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: interestingChars }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('swap' as const),
      order: fc.constantFrom<[number, number, number]>([1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0], [2, 0, 1]),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reencode' as const),
      segment: fc.constantFrom<0 | 1>(0, 1),
      json: fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('duplicate' as const), segment: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }),
  },
);

function applyMutation(token: string, m: Mutation): string {
  const n = Math.max(token.length, 1);
  switch (m.kind) {
    case 'flip': {
      const at = m.at % n;
      return token.slice(0, at) + m.char + token.slice(at + 1);
    }
    case 'insert': {
      const at = m.at % (token.length + 1);
      return token.slice(0, at) + m.char + token.slice(at);
    }
    case 'delete': {
      const at = m.at % n;
      return token.slice(0, at) + token.slice(at + 1);
    }
    case 'truncate':
      return token.slice(0, m.at % n);
    case 'swap': {
      const parts = token.split('.');
      if (parts.length !== 3) return token;
      return m.order.map((i) => parts[i]).join('.');
    }
    case 'reencode': {
      const parts = token.split('.');
      if (parts.length !== 3) return token;
      parts[m.segment] = b64(m.json);
      return parts.join('.');
    }
    case 'duplicate': {
      const parts = token.split('.');
      if (parts.length !== 3) return token;
      parts.splice(m.segment, 0, parts[m.segment] as string);
      return parts.join('.');
    }
  }
}

describe('mutated tokens', () => {
  for (const alg of FUZZ_ALGS) {
    it(`${alg}: ${MUTATION_RUNS} random mutations of valid tokens verify only when untouched and otherwise throw AuthError`, () => {
      const key = keyFor(alg);
      const verifier = verifierFor(key);
      const originals = [
        forge(key),
        forge(key, { payload: validClaims({ scope: 'read write', sid: 'session-1', roles: ['a', 'b'] }) }),
        forge(key, { payload: validClaims({ aud: [AUDIENCE, 'api://x'], nbf: NOW - 5 }) }),
      ];
      for (const token of originals) expect(classify(verifier, token).ok).toBe(true);

      fc.assert(
        fc.property(
          fc.constantFrom(...originals),
          fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
          (original, mutations) => {
            const mutated = mutations.reduce(applyMutation, original);
            const result = classify(verifier, mutated);
            if (mutated === original) return result.ok;
            return !result.ok;
          },
        ),
        { numRuns: MUTATION_RUNS },
      );
    });
  }

  it('ES256: 300 random mutations give the same outcome from verifyAsync as from verify', async () => {
    const key = keyFor('ES256');
    const verifier = verifierFor(key);
    const original = forge(key);
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), async (mutations) => {
        const mutated = mutations.reduce(applyMutation, original);
        const sync = classify(verifier, mutated);
        let async: Outcome;
        try {
          async = { ok: true, claims: (await verifier.verifyAsync(mutated)) as Record<string, unknown> };
        } catch (error) {
          if (!(error instanceof AuthError)) return false;
          async = { ok: false, code: error.code };
        }
        expect(async.ok).toBe(sync.ok);
        if (!async.ok && !sync.ok) expect(async.code).toBe(sync.code);
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

// --- properly signed random JSON ---------------------------------------------------------------

const claimNames = fc.constantFrom(
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'sid',
  'scope',
  'client_id',
  'auth_time',
);

/** Checks what a successful verification must guarantee. */
function assertAcceptedClaims(claims: Record<string, unknown>): void {
  expect(claims.iss).toBe(ISSUER);
  const aud = claims.aud;
  expect(aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE))).toBe(true);
  expect(Number.isSafeInteger(claims.exp)).toBe(true);
  expect(claims.exp as number).toBeGreaterThan(NOW - 30);
  for (const name of ['sub', 'jti']) expect(typeof claims[name]).toBe('string');
  for (const name of ['iat', 'nbf', 'auth_time']) {
    if (claims[name] !== undefined) expect(Number.isSafeInteger(claims[name])).toBe(true);
  }
}

describe('properly signed random JSON', () => {
  for (const alg of FUZZ_ALGS) {
    it(`${alg}: valid claims with random overrides and extras, signed correctly, either verify with sound claims or throw AuthError`, () => {
      const key = keyFor(alg);
      const verifier = verifierFor(key);
      fc.assert(
        fc.property(
          fc.dictionary(claimNames, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
          fc.object({ maxDepth: 3, maxKeys: 4 }),
          (overrides, extras) => {
            const payload = { ...extras, ...validClaims(), ...overrides };
            const result = classify(verifier, forge(key, { payload: JSON.stringify(payload) }));
            if (result.ok) assertAcceptedClaims(result.claims);
            return true;
          },
        ),
        { numRuns: JSON_RUNS },
      );
    });
  }

  it('any JSON value as the whole payload, signed correctly, either verifies with sound claims or throws AuthError', () => {
    const key = keyFor('HS256');
    const verifier = verifierFor(key);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const result = classify(verifier, forge(key, { payload: JSON.stringify(value) ?? 'null' }));
        if (result.ok) assertAcceptedClaims(result.claims);
        return true;
      }),
      { numRuns: JSON_RUNS },
    );
  });

  it('arbitrary text and bytes as the payload, signed correctly, always throw AuthError', () => {
    const key = keyFor('HS256');
    const verifier = verifierFor(key);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        ),
        (bytes) => {
          const result = classify(verifier, forge(key, { payload: bytes }));
          return !result.ok;
        },
      ),
      { numRuns: JSON_RUNS },
    );
  });

  it('random header members, signed correctly, verify only for exactly {alg, typ, kid} and otherwise throw AuthError', () => {
    const key = keyFor('ES256');
    const verifier = verifierFor(key);
    const headerNames = fc.constantFrom('alg', 'typ', 'kid', 'jwk', 'jku', 'crit', 'zip', 'x5c', 'cty', 'b64', 'foo');
    fc.assert(
      fc.property(fc.dictionary(headerNames, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), (overrides) => {
        const header = { ...defaultHeader(key), ...overrides };
        const result = classify(verifier, forge(key, { header }));
        if (result.ok) {
          expect(Object.keys(header).sort()).toEqual(['alg', 'kid', 'typ']);
          expect(header).toEqual(defaultHeader(key));
        }
        return true;
      }),
      { numRuns: JSON_RUNS },
    );
  });

  it('a duplicated member name injected into any random payload object is rejected with ERR_TOKEN_MALFORMED', () => {
    const key = keyFor('HS256');
    const verifier = verifierFor(key, { maxTokenBytes: 65_536, maxJsonDepth: 32 });
    fc.assert(
      fc.property(
        fc.object({ maxDepth: 3, maxKeys: 5 }),
        fc.string({ maxLength: 8 }),
        fc.jsonValue({ maxDepth: 1 }),
        fc.boolean(),
        (extras, fallbackName, value, useEscapes) => {
          const payload = JSON.parse(JSON.stringify({ ...validClaims(), ...extras })) as Record<string, unknown>;
          const names = Object.keys(payload);
          const name = names.includes(fallbackName) ? fallbackName : (names[names.length - 1] as string);
          // Optionally spell the duplicate with \u escapes so only a decoding comparison can catch it.
          const spelled = useEscapes
            ? `"${[...name].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`
            : JSON.stringify(name);
          const text = `${JSON.stringify(payload).slice(0, -1)},${spelled}:${JSON.stringify(value) ?? 'null'}}`;
          const result = classify(verifier, forge(key, { payload: text }));
          return !result.ok && result.code === 'ERR_TOKEN_MALFORMED';
        },
      ),
      { numRuns: JSON_RUNS },
    );
  });

  it('the same random claims pretty-printed and compact get the same outcome', () => {
    const key = keyFor('EdDSA');
    const verifier = verifierFor(key);
    fc.assert(
      fc.property(
        fc.dictionary(claimNames, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
        fc.object({ maxDepth: 2, maxKeys: 3 }),
        (overrides, extras) => {
          const payload = { ...extras, ...validClaims(), ...overrides };
          const compact = classify(verifier, forge(key, { payload: JSON.stringify(payload) }));
          const pretty = classify(verifier, forge(key, { payload: JSON.stringify(payload, null, 2) }));
          fc.pre(compact.ok || compact.code !== 'ERR_TOKEN_TOO_LARGE');
          fc.pre(pretty.ok || pretty.code !== 'ERR_TOKEN_TOO_LARGE');
          expect(pretty.ok).toBe(compact.ok);
          if (!pretty.ok && !compact.ok) expect(pretty.code).toBe(compact.code);
          if (pretty.ok && compact.ok) expect(pretty.claims).toEqual(compact.claims);
          return true;
        },
      ),
      { numRuns: JSON_RUNS },
    );
  });

  it('tokens minted from random segment strings never cause a non-AuthError', () => {
    const key = keyFor('HS256');
    const verifier = verifierFor(key);
    const segment = fc.string({ unit: fc.constantFrom(...'AZaz09-_+/=.* '.split('')), maxLength: 40 });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const result = classify(verifier, segments.join('.'));
        return !result.ok;
      }),
      { numRuns: JSON_RUNS },
    );
  });

  it('random valid-looking headers over a genuine payload with a random signature always throw AuthError', () => {
    const key = keyFor('EdDSA');
    const verifier = verifierFor(key);
    const [h, p] = splitSegments(forge(key));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (sig) => {
        const token = `${h}.${p}.${Buffer.from(sig).toString('base64url')}`;
        return !classify(verifier, token).ok;
      }),
      { numRuns: JSON_RUNS },
    );
    expect(b64json(defaultHeader(key))).toBe(h);
  });
});
