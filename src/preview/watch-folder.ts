import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface FolderWatch {
  close(): void;
}

/** Folders not worth watching: dependencies and dot folders (.git, caches). */
const skipped = (name: string) => name === 'node_modules' || name.startsWith('.');

/**
 * Calls `onChange` when anything in `root` or a folder below it changes.
 *
 * Each folder gets its own non-recursive watcher. Node's recursive watch on Linux
 * watches every file's inode, so a file saved by rename (`sed -i`, an editor's safe
 * write: write a temp file, rename it over the original) is never seen again; a
 * folder's watcher sees the rename and every later write to the new file. Folders
 * created or removed later are picked up on the next rename event.
 */
export function watchFolder(root: string, onChange: () => void): FolderWatch {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const forget = (dir: string) => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };

  /** Watches `dir` and every folder below it not yet watched; returns the folders found. */
  const add = (dir: string, found: Set<string>) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile, or unreadable
    }
    found.add(dir);
    if (!watchers.has(dir)) {
      try {
        const watcher = watch(dir, (event) => {
          if (closed) return;
          if (event === 'rename') rescan();
          onChange();
        });
        watcher.on('error', () => forget(dir)); // the folder went away
        watchers.set(dir, watcher);
      } catch {
        return;
      }
    }
    for (const entry of entries) if (entry.isDirectory() && !skipped(entry.name)) add(join(dir, entry.name), found);
  };

  /** A rename may have added or removed a folder: watch new ones, drop gone ones. */
  const rescan = () => {
    const found = new Set<string>();
    add(root, found);
    for (const dir of [...watchers.keys()]) if (!found.has(dir)) forget(dir);
  };

  rescan();
  return {
    close() {
      closed = true;
      for (const dir of [...watchers.keys()]) forget(dir);
    },
  };
}
