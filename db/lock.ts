import fs from "node:fs";
import path from "node:path";

// PGlite lets one process own a data directory. A lock file beside the
// directory names the owner, so a second process (the CLI while the console
// runs, say) fails at once with a clear message instead of corrupting it.

export class DatabaseBusyError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: LockInfo,
  ) {
    super(
      `The embedded database at ${lockPath.replace(/\.lock$/, "")} is in use by ` +
        `${holder.owner} (pid ${holder.pid}, since ${holder.since}). Stop ` +
        `it first, or point DATABASE_URL at PostgreSQL so several processes ` +
        `can share the database.`,
    );
    this.name = "DatabaseBusyError";
  }
}

interface LockInfo {
  pid: number;
  owner: string;
  since: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);

    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(lockPath: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(lockPath, "utf8")) as LockInfo;
  } catch {
    return null;
  }
}

/** Takes the lock for this process; returns a function that releases it. */
export function acquireDataDirLock(dataDir: string, owner: string) {
  const lockPath = `${path.resolve(dataDir)}.lock`;
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const info: LockInfo = {
    pid: process.pid,
    owner,
    since: new Date().toISOString(),
  };

  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify(info), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readLock(lockPath);
      if (holder && holder.pid === process.pid) break;
      if (holder && isAlive(holder.pid)) {
        throw new DatabaseBusyError(lockPath, holder);
      }
      // The holder died without cleaning up: the lock is stale.
      fs.rmSync(lockPath, { force: true });
    }
  }

  const release = () => {
    const holder = readLock(lockPath);
    if (holder?.pid === process.pid) fs.rmSync(lockPath, { force: true });
  };
  process.once("exit", release);

  return release;
}
