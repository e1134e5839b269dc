import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseInUseError } from '../errors.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process at a time and does not guard its own folder, so we do:
 * a lock file holding our pid, created with O_EXCL. A lock left by a dead
 * process is taken over; a live one is a DatabaseInUseError naming the fix.
 */
export function acquireLock(lockPath: string, folder: string): () => void {
  mkdirSync(dirname(lockPath), { recursive: true });
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8') === String(process.pid)) unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let pid = Number.NaN;
      try {
        pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      } catch {
        continue; // removed under us: try again
      }
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
        throw new DatabaseInUseError(
          `The embedded database at ${folder} is in use by process ${pid}. PGlite serves one process at a time: ` +
            `stop that process, or set DATABASE_URL to a postgres:// URL to run several processes at once.`,
        );
      }
      try {
        unlinkSync(lockPath); // stale: its process is gone
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new DatabaseInUseError(`Could not lock the embedded database at ${folder}: remove ${lockPath} if no mailroom process is running.`);
}
