/**
 * What the database must look like after any storm, crash or outage: every session one chain
 * of refresh tokens, each rotated token replaced by exactly one successor that exists in the
 * same session, no token issued twice, exactly one live (unrotated) token per session, and no
 * half-written rotation (rotated_at without replaced_by or the other way round).
 */

import { DATABASE_URL, query } from './services.js';

export interface ChainReport {
  readonly sessions: number;
  readonly tokens: number;
  /** Human-readable violations; empty when every chain is sound. */
  readonly violations: string[];
  /** Tokens per session id. */
  readonly tokensPerSession: Map<string, number>;
}

export async function checkChains(schema: string, url = DATABASE_URL): Promise<ChainReport> {
  const violations: string[] = [];
  const s = schema;
  const half = await query<{ hash: string }>(
    `SELECT hash FROM ${s}.refresh_tokens WHERE (rotated_at IS NULL) <> (replaced_by IS NULL)`,
    [],
    url,
  );
  if (half.length > 0) violations.push(`${half.length} half-written rotation(s)`);
  const twice = await query<{ replaced_by: string; n: number }>(
    `SELECT replaced_by, count(*)::int AS n FROM ${s}.refresh_tokens WHERE replaced_by IS NOT NULL GROUP BY replaced_by HAVING count(*) > 1`,
    [],
    url,
  );
  if (twice.length > 0) violations.push(`${twice.length} token(s) issued as the successor of more than one token`);
  const dangling = await query<{ hash: string }>(
    `SELECT t.hash FROM ${s}.refresh_tokens t LEFT JOIN ${s}.refresh_tokens n ON n.hash = t.replaced_by
       WHERE t.replaced_by IS NOT NULL AND (n.hash IS NULL OR n.session_id <> t.session_id)`,
    [],
    url,
  );
  if (dangling.length > 0) violations.push(`${dangling.length} rotation(s) pointing at a missing or foreign successor`);
  const live = await query<{ session_id: string; live: number; total: number }>(
    `SELECT session_id, count(*) FILTER (WHERE rotated_at IS NULL)::int AS live, count(*)::int AS total
       FROM ${s}.refresh_tokens GROUP BY session_id`,
    [],
    url,
  );
  const notOne = live.filter((r) => r.live !== 1);
  if (notOne.length > 0) violations.push(`${notOne.length} session(s) without exactly one live token`);
  return {
    sessions: live.length,
    tokens: live.reduce((n, r) => n + r.total, 0),
    violations,
    tokensPerSession: new Map(live.map((r) => [r.session_id, r.total])),
  };
}
