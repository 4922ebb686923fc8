import { permissionColumns, teamPermissions, type TeamInput, type TeamPermission } from '@kassa/core/host';
import { uuid } from './page';

/** The team form's body: a name, one checkbox per permission (named after its column), all events or chosen ones. */
export type TeamBody = { name: string; all_events?: string; events?: string | string[] } & Partial<Record<string, string>>;

const checkbox = { type: 'string', enum: ['on', ''] } as const;

export const teamBody = {
  type: 'object',
  required: ['name'],
  properties: {
    _csrf: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
    all_events: checkbox,
    events: { anyOf: [uuid, { type: 'array', items: uuid, maxItems: 1000 }] },
    ...Object.fromEntries(teamPermissions.map((p) => [permissionColumns[p], checkbox])),
  },
  additionalProperties: false,
} as const;

/** What the form says, as the store takes it. */
export function teamInput(body: TeamBody): TeamInput {
  const events = body.events === undefined ? [] : Array.isArray(body.events) ? body.events : [body.events];
  return {
    name: body.name.trim(),
    allEvents: body.all_events === 'on',
    permissions: teamPermissions.filter((p: TeamPermission) => body[permissionColumns[p]] === 'on'),
    eventIds: events,
  };
}
