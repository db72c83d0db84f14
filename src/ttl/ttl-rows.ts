/** A deployment's TTL columns as both dialects read them (ttl-repository.ts's two implementations share it). */
import { z } from 'zod';
import type { NoticeStatus, ResourceStatus } from '../db/schema.js';
import type { TtlDeployment } from './ttl-repository.js';

export const MAX_TTL_ERROR_CHARS = 2000;
export const TTL_COLUMNS = `id, guild_id, project_id, created_by, template, status, ttl_ms, expires_at, ttl_set_at, ttl_attempts,
  ttl_next_attempt_at, ttl_last_error, expired_at, ttl_notice_status, ttl_notice_direct_done`;

/** Epoch milliseconds and ids: numbers on SQLite, bigints (strings) read raw on PostgreSQL. */
const int = z.coerce.number().int();
const nullableInt = z.coerce.number().nullable();

/** A row of TTL_COLUMNS, read on either dialect. */
export const ttlRowSchema = z
  .object({
    id: int,
    guild_id: z.string(),
    project_id: int,
    created_by: z.string(),
    template: z.string(),
    status: z.string(),
    ttl_ms: nullableInt,
    expires_at: nullableInt,
    ttl_set_at: nullableInt,
    ttl_attempts: int,
    ttl_next_attempt_at: nullableInt,
    ttl_last_error: z.string().nullable(),
    expired_at: nullableInt,
    ttl_notice_status: z.string().nullable(),
    // 0/1 on SQLite, a boolean on PostgreSQL.
    ttl_notice_direct_done: z.union([z.number(), z.boolean()]),
  })
  .transform(
    (row): TtlDeployment => ({
      id: row.id,
      guildId: row.guild_id,
      projectId: row.project_id,
      createdBy: row.created_by,
      template: row.template,
      status: row.status as ResourceStatus,
      ttlMs: row.ttl_ms,
      expiresAt: row.expires_at,
      ttlSetAt: row.ttl_set_at,
      attempts: row.ttl_attempts,
      nextAttemptAt: row.ttl_next_attempt_at,
      lastError: row.ttl_last_error,
      expiredAt: row.expired_at,
      noticeStatus: row.ttl_notice_status as NoticeStatus | null,
      noticeDirectDone: row.ttl_notice_direct_done === true || row.ttl_notice_direct_done === 1,
    }),
  );
