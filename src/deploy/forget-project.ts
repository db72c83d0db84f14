import type { AppContext } from '../app/context.js';
import { checkpointAfterErasure } from '../db/index.js';
import type { Project } from '../projects/project-repository.js';
import { UserError } from '../shared/errors.js';
import { escapeMarkdown } from '../shared/member-text.js';

/**
 * Forgets a project whose resources are all gone: wipes its vault session, removes its working folder (local state
 * included: it is empty once everything is destroyed) and archives the row, which frees the name for a new project.
 * Runs, resources and audit entries keep pointing at the archived row, so history stays readable.
 */
export async function forgetProject(app: AppContext, project: Project, userId: string): Promise<void> {
  const remaining = (await app.resources.listByProject(project.guildId, project.id)).filter((r) => r.status !== 'destroyed');
  if (remaining.length > 0) {
    throw new UserError(
      'project.not_empty',
      `Project **${escapeMarkdown(project.name)}** still has ${remaining.length} resource${remaining.length === 1 ? '' : 's'} that ${remaining.length === 1 ? 'is' : 'are'} not destroyed (${remaining.map((r) => `#${r.id} ${r.status}`).join(', ')}). Destroy ${remaining.length === 1 ? 'it' : 'them'} first; nothing was forgotten.`,
    );
  }
  if (project.vaultSessionId) app.vault.close(project.guildId, project.vaultSessionId);
  app.layout.removeWorkspace(project.guildId, project.slug);
  await app.projects.archive(project.guildId, project.id);
  app.audit.record({ guildId: project.guildId, userId, action: 'project.forget', target: project.name, outcome: 'success' });
  // SQLite only: its WAL is a file beside the database that keeps the pages as they were until a checkpoint, so a
  // copy of the files would carry what was just wiped. PostgreSQL's write-ahead log is the server's own, recycled by
  // its checkpoints and not reachable (nor truncatable) from a client, so there is nothing of ours to checkpoint.
  const session = app.data.session;
  if (session.dialect === 'sqlite') checkpointAfterErasure(session.db);
}
