import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organizer teams as pretix has them: per-team permissions (organizer-level: change teams, change
 * organizer settings, create events; event-level: change event settings, view orders, change
 * orders) on all events or on chosen ones (team_event), invitations by e-mail (only the token's
 * hash is stored) and organizers an operator can deactivate.
 *
 * Existing teams keep exactly their rights: an admin team (is_admin) gets every permission; any
 * other team what members could do before (events, products, quotas and orders, no settings,
 * no teams). `is_admin` stays as "every permission" for setups that create teams directly.
 */
export class TeamsAndInvites1767600000000 implements MigrationInterface {
  name = 'TeamsAndInvites1767600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE organizer ADD COLUMN is_active boolean NOT NULL DEFAULT true;
      ALTER TABLE team
        ADD COLUMN all_events boolean NOT NULL DEFAULT true,
        ADD COLUMN can_change_teams boolean NOT NULL DEFAULT false,
        ADD COLUMN can_change_organizer_settings boolean NOT NULL DEFAULT false,
        ADD COLUMN can_create_events boolean NOT NULL DEFAULT false,
        ADD COLUMN can_change_event_settings boolean NOT NULL DEFAULT false,
        ADD COLUMN can_view_orders boolean NOT NULL DEFAULT false,
        ADD COLUMN can_change_orders boolean NOT NULL DEFAULT false;
      UPDATE team SET can_change_teams = true, can_change_organizer_settings = true, can_create_events = true,
                      can_change_event_settings = true, can_view_orders = true, can_change_orders = true
       WHERE is_admin;
      UPDATE team SET can_create_events = true, can_change_event_settings = true, can_view_orders = true, can_change_orders = true
       WHERE NOT is_admin;
      CREATE INDEX team_organizer ON team (organizer_id);
      CREATE TABLE team_event (
        team_id uuid NOT NULL REFERENCES team(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES event(id) ON DELETE CASCADE,
        PRIMARY KEY (team_id, event_id)
      );
      CREATE TABLE team_invite (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES team(id) ON DELETE CASCADE,
        email text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        invited_by uuid REFERENCES app_user(id) ON DELETE SET NULL,
        accepted_at timestamptz,
        accepted_by uuid REFERENCES app_user(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX team_invite_team ON team_invite (team_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE team_invite;
      DROP TABLE team_event;
      DROP INDEX team_organizer;
      ALTER TABLE team DROP COLUMN all_events, DROP COLUMN can_change_teams, DROP COLUMN can_change_organizer_settings,
        DROP COLUMN can_create_events, DROP COLUMN can_change_event_settings, DROP COLUMN can_view_orders, DROP COLUMN can_change_orders;
      ALTER TABLE organizer DROP COLUMN is_active;
    `);
  }
}
