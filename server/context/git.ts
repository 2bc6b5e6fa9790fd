import { execFile } from "node:child_process";
import { promisify } from "node:util";

// Last change of each file in a git working tree: the date and author of
// the last commit that touched it. A fresh clone gives every file the
// same modification time, so file times say nothing there; commits do.

const run = promisify(execFile);

/** Enough for the log of a large documentation repository. */
const MAX_OUTPUT_BYTES = 512 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

export interface GitChange {
  /** The commit's date (committer date). */
  modifiedAt: Date;
  /** The commit's author, by name. */
  modifiedBy: string;
}

export interface GitDates {
  /** Last commit per file, by path relative to the indexed folder. */
  committed: Map<string, GitChange>;
  /** Files with uncommitted changes or untracked, relative likewise: their
   * file time is newer than any commit. */
  changed: Set<string>;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run("git", args, {
    cwd,
    encoding: "utf8",
    maxBuffer: MAX_OUTPUT_BYTES,
    timeout: TIMEOUT_MS,
    windowsHide: true,
  });

  return stdout;
}

/** Parses `git log -z --name-only --format=%x01%cI%x02%an`, newest commit
 * first, keeping each file's first (latest) commit. */
export function parseGitLog(output: string): Map<string, GitChange> {
  const committed = new Map<string, GitChange>();
  for (const record of output.split("\x01")) {
    const headerEnd = record.indexOf("\0");
    if (headerEnd < 0) continue;
    const [date, author = ""] = record.slice(0, headerEnd).split("\x02");
    const modifiedAt = new Date(date);
    if (Number.isNaN(modifiedAt.getTime())) continue;
    const files = record
      .slice(headerEnd + 1)
      .replace(/^\n/, "")
      .split("\0")
      .filter(Boolean);
    for (const file of files) {
      if (!committed.has(file)) {
        committed.set(file, { modifiedAt, modifiedBy: author.trim() });
      }
    }
  }

  return committed;
}

/** Parses `git status --porcelain=v1 -z`: the paths with any change, made
 * relative to `prefix` (the indexed folder inside the repository). */
export function parseGitStatus(output: string, prefix: string): Set<string> {
  const changed = new Set<string>();
  for (const entry of output.split("\0")) {
    // "XY path"; a rename's old path follows as an entry of its own, and
    // counting it as changed too does no harm.
    const file = entry.length > 3 && entry[2] === " " ? entry.slice(3) : entry;
    if (!file) continue;
    if (file.startsWith(prefix)) changed.add(file.slice(prefix.length));
  }

  return changed;
}

/**
 * Commit dates and authors for the files under `dir`, in one `git log`
 * pass and one `git status`. Null when git is not installed, `dir` is not
 * in a working tree, or git fails: callers then use file times.
 */
export async function gitDates(dir: string): Promise<GitDates | null> {
  try {
    const prefix = (await git(dir, ["rev-parse", "--show-prefix"])).trim();
    const [log, status] = await Promise.all([
      git(dir, [
        "-c",
        "core.quotePath=false",
        "log",
        "-z",
        "--name-only",
        "--relative",
        "--no-renames",
        "--format=%x01%cI%x02%an",
        "--",
        ".",
      ]),
      git(dir, [
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--",
        ".",
      ]),
    ]);

    return {
      committed: parseGitLog(log),
      changed: parseGitStatus(status, prefix),
    };
  } catch {
    // No git, not a repository, a repository without commits, or one git
    // refuses to read (another owner): file times are the fallback.
    return null;
  }
}
