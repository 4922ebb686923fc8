import type { EntityManager } from 'typeorm';
import type { SettingScope } from '../settings/setting.entity';

/**
 * The SQL of table setting (see settings/settings-store.ts for the hierarchy, validation and
 * secrets). A row as stored: `value` is the JSON value, or a sealed secret when `encrypted`.
 */
export interface SettingRow {
  scope: SettingScope;
  scope_id: string;
  key: string;
  value: unknown;
  encrypted: boolean;
}

/** Serialises writers of one namespace (at any level) until the transaction ends. */
export async function lockSettingsNamespace(tx: EntityManager, namespace: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`setting:${namespace}`]);
}

/** The rows of a namespace that apply at one level: global, the organizer's and the event's. */
export async function loadSettingRows(
  manager: EntityManager, namespace: string, organizerId: string | null, eventId: string | null,
): Promise<SettingRow[]> {
  return manager.query(
    `SELECT scope, scope_id, key, value, encrypted FROM setting
      WHERE namespace = $1
        AND ((scope = 'global' AND scope_id = '')
          OR (scope = 'organizer' AND scope_id = $2)
          OR (scope = 'event' AND scope_id = $3))`,
    [namespace, organizerId ?? '', eventId ?? ''],
  );
}

/**
 * Every row of a namespace at global level, and at the organizer and event levels (of one
 * organizer when `organizerId` is given), each with the organizer it belongs to. Events are found
 * through the event table (an event row's scope_id is only its own id), so settings of deleted
 * events are left out.
 */
export async function loadSettingRowsBelow(
  manager: EntityManager, namespace: string, organizerId: string | null,
): Promise<(SettingRow & { organizer_id: string | null })[]> {
  return manager.query(
    `SELECT s.scope, s.scope_id, s.key, s.value, s.encrypted,
            CASE WHEN s.scope = 'organizer' THEN s.scope_id WHEN s.scope = 'event' THEN e.organizer_id::text END AS organizer_id
       FROM setting s LEFT JOIN event e ON s.scope = 'event' AND e.id::text = s.scope_id
      WHERE s.namespace = $1
        AND (s.scope = 'global'
          OR (s.scope = 'organizer' AND ($2::text IS NULL OR s.scope_id = $2))
          OR (s.scope = 'event' AND e.id IS NOT NULL AND ($2::text IS NULL OR e.organizer_id::text = $2)))`,
    [namespace, organizerId],
  );
}

/** Every stored row of one key of a namespace, at all levels. */
export async function loadSettingRowsOfKey(manager: EntityManager, namespace: string, key: string): Promise<SettingRow[]> {
  return manager.query(
    'SELECT scope, scope_id, key, value, encrypted FROM setting WHERE namespace = $1 AND key = $2 ORDER BY scope, scope_id', [namespace, key],
  );
}

/** Inserts or replaces one value. `stored` is the JSON value or the sealed secret. */
export async function upsertSetting(
  tx: EntityManager, scope: SettingScope, scopeId: string, namespace: string, key: string, stored: unknown, encrypted: boolean,
): Promise<void> {
  await tx.query(
    `INSERT INTO setting (scope, scope_id, namespace, key, value, encrypted, updated_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, now())
     ON CONFLICT (scope, scope_id, namespace, key)
     DO UPDATE SET value = EXCLUDED.value, encrypted = EXCLUDED.encrypted, updated_at = now()`,
    [scope, scopeId, namespace, key, JSON.stringify(stored), encrypted],
  );
}

/** Removes one value at one level. */
export async function deleteSetting(tx: EntityManager, scope: SettingScope, scopeId: string, namespace: string, key: string): Promise<void> {
  await tx.query('DELETE FROM setting WHERE scope = $1 AND scope_id = $2 AND namespace = $3 AND key = $4', [scope, scopeId, namespace, key]);
}
