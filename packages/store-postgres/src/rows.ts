/** PostgreSQL row mapping: the shared SQL row mappers, plus audit rows (`data` is JSONB). BIGINT columns arrive as numbers (see the pool's type parsers). */

import type { AuditEvent } from '@tessera/server/contracts';
import { nullable, type Row } from '@tessera/server/store-rows';

export {
  auditValues,
  type Row,
  toClient,
  toRefreshContext,
  toRevocation,
  toSession,
  toSigningKey,
  toUser,
} from '@tessera/server/store-rows';

export function toAudit(r: Row): AuditEvent {
  return {
    id: r.id as number,
    at: r.at as number,
    type: r.type as string,
    userId: nullable<string>(r.user_id),
    sessionId: nullable<string>(r.session_id),
    ip: nullable<string>(r.ip),
    userAgent: nullable<string>(r.user_agent),
    data: r.data as Record<string, unknown>,
  };
}
