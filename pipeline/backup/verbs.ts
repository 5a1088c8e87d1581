import { z } from 'zod';
import { UserError } from '../errors.js';
import { exportParquet } from '../export/parquet.js';
import type { Services } from '../verbs.js';
import { createBackup } from './backup.js';
import type { BackupKey } from './crypto.js';

const DEFAULT_KEEP_DAYS = 30;

/**
 * The key of the process doing the work (the server when one runs). `keyId` is the caller's: when
 * the caller has a key, the work must use the same one, or a user who set EARSHOT_BACKUP_KEY in their
 * shell would get copies the server left unencrypted, or encrypted with a key they do not hold.
 */
export function workingKey(svc: Services, keyId: string | null): BackupKey | null {
  const key = svc.config.backup?.key ?? null;
  if (keyId !== null && key?.id !== keyId) {
    throw new UserError(
      key
        ? `the earshot server holding the database has another EARSHOT_BACKUP_KEY (key id ${key.id}, yours ${keyId}); give both the same key`
        : `the earshot server holding the database has no EARSHOT_BACKUP_KEY (yours is key id ${keyId}); set it where \`earshot serve\` runs and restart it`,
      409,
    );
  }
  return key;
}

const folderArgs = z.strictObject({
  /** Absolute: the CLI resolves it against its own working folder before sending. */
  dir: z.string().min(1),
  keyId: z.string().nullable(),
  actor: z.string().min(1),
});
type FolderArgs = z.infer<typeof folderArgs>;

/** Backup and export verbs, for the CLI and the server (spread into remoteVerbs). */
export const backupVerbs = {
  backup: {
    args: folderArgs,
    run: (svc: Services, args: FolderArgs) =>
      svc.locks.run(`backup:${args.dir}`, () =>
        createBackup(svc.store, {
          dir: args.dir,
          key: workingKey(svc, args.keyId),
          keepDays: svc.config.backup?.keepDays ?? DEFAULT_KEEP_DAYS,
          now: svc.now(),
          actor: args.actor,
        }),
      ),
  },
  'export-parquet': {
    args: folderArgs,
    // Two exports into one folder at once would delete each other's files: they queue.
    run: (svc: Services, args: FolderArgs) =>
      svc.locks.run(`export:${args.dir}`, () =>
        exportParquet(svc.store, {
          dir: args.dir,
          key: workingKey(svc, args.keyId),
          now: svc.now(),
          actor: args.actor,
        }),
      ),
  },
} as const;
