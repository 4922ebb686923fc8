import { createHash, randomBytes } from 'node:crypto';
import { KassaError, TeamStore, insertEmailMessage } from '@kassa/core/host';
import type { AppDeps } from '../deps';

/** How long an invitation link works. */
export const inviteLifetimeMs = 7 * 86_400_000;

/** SHA-256 hex of an invitation token: only this is stored, so a database reader cannot use open invitations. */
export function hashInviteToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Invites an e-mail address into one of the organizer's teams: stores the invitation (the token's
 * hash, an expiry) and the e-mail with the single-use link, which the worker sends (SMTP) or the
 * stored-emails reader shows. Returns the link too, shown once to the inviter. NOT_FOUND for
 * another organizer's team.
 */
export async function inviteToTeam(
  deps: AppDeps, input: { organizerId: string; teamId: string; email: string; invitedBy: string | null; teamName: string; organizerName: string },
): Promise<{ inviteId: string; link: string }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(deps.clock.now().getTime() + inviteLifetimeMs);
  const email = input.email.trim();
  const inviteId = await new TeamStore(deps.dataSource).createInvite(input.organizerId, input.teamId, { email, tokenHash: hashInviteToken(token), expiresAt, invitedBy: input.invitedBy });
  if (!inviteId) throw new KassaError('NOT_FOUND', { entity: 'Team' });
  const link = `${deps.config.baseUrl}/control/invite/${token}`;
  const text = [
    `You have been invited to join the team "${input.teamName}" of ${input.organizerName} on Kassa.`,
    '',
    `Accept the invitation (the link works once, until ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC):`,
    link,
    '',
    'If you did not expect this, ignore this e-mail.',
  ].join('\n');
  await insertEmailMessage(deps.dataSource.manager, {
    dedupKey: `team-invite:${inviteId}`, organizerId: input.organizerId, orderId: null, causeEventId: null, template: 'team-invite', locale: 'en',
    recipient: email, subject: `Invitation to ${input.organizerName}`, bodyText: text, bodyHtml: '',
    messageId: `<team-invite.${inviteId}@kassa>`,
    // With SMTP (no stored-emails reader) the worker's sweep of unsent e-mails sends it.
    transport: deps.config.storedEmails === false ? 'smtp' : 'stored',
  });
  return { inviteId, link };
}
