import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { databaseValueRefusal, type Database } from "@/db/client";
import { contextDocuments, contextSections } from "@/db/schema";
import { invalidInput } from "@/server/errors";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole, type Project } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import { newId, now } from "@/server/runtime";
import { parseInput } from "@/server/input";
import {
  sectionMarkdown,
  unstorableText,
  type SectionedDocument,
} from "./sectioner";
import { AGENT_NOTES_SOURCE, classifySource } from "./classify";
import { textSignature } from "./status";
import { gitDates } from "./git";
import { rebuildTermLinks } from "./term-links";

// Indexing: markdown files become documents and sections. Unchanged files
// are skipped by content hash, so re-indexing a folder is incremental.

// Bump when the sectioner changes what it produces: stored hashes then no
// longer match and every file is sectioned again.
const SECTIONER_VERSION = "s4";
const FILES_PER_BATCH = 50;
const SECTIONS_PER_INSERT = 500;
const markdownFile = /\.(md|mdx)$/i;
const AUDITED_PROBLEMS = 50;

const sourceName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\w.@-]+$/, "letters, digits, . _ - @ only")
  // Indexing would overwrite what agents wrote and their statuses.
  .refine(
    (name) => name !== AGENT_NOTES_SOURCE,
    `${AGENT_NOTES_SOURCE} holds documents agents write; pick another source`,
  );

// A release label such as 16.5.0 or v2; omitted for an unversioned source.
const versionLabel = z
  .string()
  .trim()
  .max(50)
  .regex(/^[\w.+-]*$/, "letters, digits, . _ - + only")
  .default("");

export const indexDirectoryInput = z.object({
  project: z.string().min(1),
  dir: z.string().min(1),
  source: sourceName.default("default"),
  version: versionLabel,
  /** Index a folder with no markdown files anyway, which removes every
   * document of the source (and version). Off, such a folder is refused:
   * it is more often a mistyped path than an emptied folder. */
  allowEmpty: z.boolean().default(false),
});

const relativePath = z
  .string()
  .trim()
  .min(1)
  .max(1000)
  .transform((p) => p.replaceAll("\\", "/").replace(/^(\.\/|\/)+/, ""))
  .refine((p) => !p.split("/").includes(".."), "must not contain ..")
  .refine((p) => markdownFile.test(p), "must end in .md or .mdx");

export const indexDocumentsInput = z.object({
  project: z.string().min(1),
  source: sourceName.default("default"),
  version: versionLabel,
  files: z
    .array(z.object({ path: relativePath, content: z.string().max(2_000_000) }))
    .min(1)
    .max(2000),
});

export interface IndexProgress {
  /** Files looked at so far, out of `total`. */
  done: number;
  total: number;
  path: string;
}

/** A file the run skipped, or indexed with a caveat, and why. */
export interface FileProblem {
  path: string;
  problem: string;
  /** Set on front matter the status rules could not act on. These are
   * worked out for the whole release at the end of every run, so the
   * latest run's list replaces an earlier one's. */
  statusRule?: true;
}

export interface IndexSummary {
  project: string;
  source: string;
  version: string;
  filesSeen: number;
  indexed: number;
  unchanged: number;
  /** Unchanged files whose last-change date or author was updated (a new
   * commit with the same text, or git dates seen for the first time). */
  redated: number;
  removed: number;
  /** Files left out of the index (a document already stored for one
   * keeps its last indexed text). */
  skipped: FileProblem[];
  /** Files indexed with a caveat: text that is not valid UTF-8, front
   * matter that could not be read (only files read in this run); and
   * documents of the release whose front matter the status rules could
   * not act on, such as a superseded_by naming no document (all of them,
   * at every run, until fixed). */
  warnings: FileProblem[];
  /** Sections and tokens of the files indexed in this run. */
  sections: number;
  tokens: number;
  /** Documents of the source per status after this run. */
  statuses: Record<string, number>;
  /** Links between heading words and body words learned from the source's
   * canonical sections (./term-links.ts). */
  termLinks: number;
  durationMs: number;
}

/** Where a document's last-change date comes from: its last git commit,
 * the file's modification time, or the moment it came in through the
 * console or the agent API. */
export type ModifiedSource = "git" | "file" | "api";

interface FileDate {
  /** Null: not known, the indexing time stands in. */
  modifiedAt: Date | null;
  modifiedBy?: string | null;
  modifiedSource?: ModifiedSource;
}

interface FileText extends FileDate {
  content: string;
  /** Something worth telling about how the text was read. */
  warning?: string;
}

interface SourceFile extends FileText {
  path: string;
}

type ProgressListener = (progress: IndexProgress) => void;

function contentHash(content: string): string {
  const digest = crypto.createHash("sha256").update(content).digest("hex");

  return `${SECTIONER_VERSION}:${digest}`;
}

/** Markdown files under `dir`, relative with forward slashes, sorted,
 * and the symbolic links among them, which are not followed (a link may
 * lead out of the folder). Hidden folders and node_modules are skipped. */
export async function listMarkdownFiles(
  dir: string,
): Promise<{ files: string[]; links: string[] }> {
  const root = path.resolve(dir);
  const files: string[] = [];
  const links: string[] = [];
  async function walk(folder: string) {
    const entries = await fs.readdir(folder, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = path.join(folder, entry.name);
      const relative = path.relative(root, full).split(path.sep).join("/");
      if (entry.isDirectory()) await walk(full);
      else if (!markdownFile.test(entry.name)) continue;
      else if (entry.isFile()) files.push(relative);
      else if (entry.isSymbolicLink()) links.push(relative);
    }
  }
  await walk(root);

  return { files: files.sort(), links: links.sort() };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A file's text; bytes that are not UTF-8 become U+FFFD, with a warning. */
async function readText(file: string) {
  const bytes = await fs.readFile(file);
  try {
    return { content: strictUtf8.decode(bytes) };
  } catch {
    return {
      content: bytes.toString("utf8"),
      warning: "not valid UTF-8; undecodable bytes were replaced with U+FFFD",
    };
  }
}

async function storedHashes(
  db: Database,
  projectId: string,
  source: string,
  version: string,
) {
  const rows = await db
    .select({
      id: contextDocuments.id,
      path: contextDocuments.path,
      contentHash: contextDocuments.contentHash,
      modifiedAt: contextDocuments.modifiedAt,
      modifiedBy: contextDocuments.modifiedBy,
      modifiedSource: contextDocuments.modifiedSource,
    })
    .from(contextDocuments)
    .where(
      and(
        eq(contextDocuments.projectId, projectId),
        eq(contextDocuments.source, source),
        eq(contextDocuments.version, version),
      ),
    );

  return new Map(rows.map((row) => [row.path, row]));
}

/** What the index stores of one markdown file: the document row's fields,
 * worked out from the sectioner's output, and the sectioned document. The
 * indexer and write-back (./notes.ts) both store files through it. */
export function sectionedFile(file: SourceFile, indexedAt: Date) {
  const doc = sectionMarkdown(file.content, file.path);

  return {
    doc,
    fields: {
      path: file.path,
      title: doc.title,
      frontMatter: doc.frontMatter,
      signature: textSignature(
        doc.sections.map((section) => section.body).join("\n"),
      ),
      modifiedAt: file.modifiedAt ?? indexedAt,
      modifiedBy: file.modifiedBy ?? null,
      modifiedSource: file.modifiedSource ?? (file.modifiedAt ? "file" : "api"),
      contentHash: contentHash(file.content),
      tokens: doc.tokens,
      lines: doc.lines,
      indexedAt,
    },
  };
}

/** Replaces the sections of documents with the sectioner's output;
 * returns how many were written. */
export async function replaceSections(
  tx: Database,
  projectId: string,
  documents: Array<{ id: string; doc: SectionedDocument }>,
): Promise<number> {
  if (documents.length === 0) return 0;
  await tx.delete(contextSections).where(
    inArray(
      contextSections.documentId,
      documents.map((d) => d.id),
    ),
  );
  const rows = documents.flatMap(({ id, doc }) =>
    doc.sections.map((section) => ({
      id: newId(),
      projectId,
      documentId: id,
      ordinal: section.ordinal,
      heading: section.heading,
      headingPath: section.headingPath,
      level: section.level,
      line: section.line,
      body: section.body,
      tokens: section.tokens,
    })),
  );
  for (let i = 0; i < rows.length; i += SECTIONS_PER_INSERT) {
    await tx
      .insert(contextSections)
      .values(rows.slice(i, i + SECTIONS_PER_INSERT));
  }

  return rows.length;
}

/** What writing a batch of files did. */
interface Written {
  indexed: number;
  sections: number;
  tokens: number;
  warnings: FileProblem[];
  skipped: FileProblem[];
}

/** Writes one batch of changed files: document rows are upserted (so a
 * document keeps its id and status), their sections replaced. */
async function writeBatch(
  db: Database,
  project: Project,
  source: string,
  version: string,
  batch: SourceFile[],
): Promise<Written> {
  const indexedAt = now();
  const parsed = batch.map((file) => sectionedFile(file, indexedAt));
  let sections = 0;
  let tokens = 0;
  const warnings = parsed.flatMap(({ fields, doc }) =>
    doc.frontMatterError
      ? [
          {
            path: fields.path,
            problem: `front matter ignored: ${doc.frontMatterError}`,
          },
        ]
      : [],
  );
  await db.transaction(async (tx) => {
    const documents = await tx
      .insert(contextDocuments)
      .values(
        parsed.map(({ fields }) => ({
          id: newId(),
          projectId: project.id,
          source,
          version,
          ...fields,
        })),
      )
      .onConflictDoUpdate({
        target: [
          contextDocuments.projectId,
          contextDocuments.source,
          contextDocuments.version,
          contextDocuments.path,
        ],
        set: {
          title: sql`excluded.title`,
          frontMatter: sql`excluded.front_matter`,
          signature: sql`excluded.signature`,
          modifiedAt: sql`excluded.modified_at`,
          modifiedBy: sql`excluded.modified_by`,
          modifiedSource: sql`excluded.modified_source`,
          contentHash: sql`excluded.content_hash`,
          tokens: sql`excluded.tokens`,
          lines: sql`excluded.lines`,
          indexedAt: sql`excluded.indexed_at`,
        },
      })
      .returning({ id: contextDocuments.id, path: contextDocuments.path });
    const idByPath = new Map(documents.map((d) => [d.path, d.id]));
    sections = await replaceSections(
      tx,
      project.id,
      parsed.map(({ fields, doc }) => {
        const id = idByPath.get(fields.path);
        if (!id) throw new Error(`No document row for ${fields.path}`);
        tokens += doc.tokens;

        return { id, doc };
      }),
    );
  });

  return { indexed: batch.length, sections, tokens, warnings, skipped: [] };
}

/** Writes a batch; when PostgreSQL refuses a value, writes its files one
 * at a time instead, so only the file it refuses is skipped. */
async function writeFiles(
  db: Database,
  project: Project,
  source: string,
  version: string,
  batch: SourceFile[],
): Promise<Written> {
  try {
    return await writeBatch(db, project, source, version, batch);
  } catch (error) {
    const refusal = databaseValueRefusal(error);
    if (!refusal) throw error;
    if (batch.length === 1) {
      const problem = `the database refused it: ${refusal}`;
      const skipped = [{ path: batch[0].path, problem }];

      return { indexed: 0, sections: 0, tokens: 0, warnings: [], skipped };
    }
    const written = { indexed: 0, sections: 0, tokens: 0 };
    const warnings: FileProblem[] = [];
    const skipped: FileProblem[] = [];
    for (const file of batch) {
      const one = await writeFiles(db, project, source, version, [file]);
      written.indexed += one.indexed;
      written.sections += one.sections;
      written.tokens += one.tokens;
      warnings.push(...one.warnings);
      skipped.push(...one.skipped);
    }

    return { ...written, warnings, skipped };
  }
}

interface IndexRun {
  project: Project;
  source: string;
  version: string;
  paths: string[];
  /** Files found but not read, and why. */
  skipped?: FileProblem[];
  read: (path: string) => Promise<FileText>;
  /** Whether documents of the source missing from `paths` are removed. */
  removeMissing: boolean;
  /** Whether a run with nothing to index may still remove documents. */
  allowEmpty?: boolean;
  onProgress?: ProgressListener;
}

function sameDate(
  stored: {
    modifiedAt: Date | null;
    modifiedBy: string | null;
    modifiedSource: string | null;
  },
  file: FileDate,
): boolean {
  return (
    stored.modifiedAt?.getTime() === file.modifiedAt?.getTime() &&
    stored.modifiedBy === (file.modifiedBy ?? null) &&
    stored.modifiedSource === (file.modifiedSource ?? "file")
  );
}

async function runIndex(db: Database, actor: Actor, run: IndexRun) {
  const started = performance.now();
  const { project, source, version } = run;
  const stored = await storedHashes(db, project.id, source, version);
  const summary: IndexSummary = {
    project: project.slug,
    source,
    version,
    filesSeen: run.paths.length,
    indexed: 0,
    unchanged: 0,
    redated: 0,
    removed: 0,
    skipped: [...(run.skipped ?? [])],
    warnings: [],
    sections: 0,
    tokens: 0,
    statuses: {},
    termLinks: 0,
    durationMs: 0,
  };

  let batch: SourceFile[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const written = await writeFiles(db, project, source, version, batch);
    summary.indexed += written.indexed;
    summary.sections += written.sections;
    summary.tokens += written.tokens;
    summary.warnings.push(...written.warnings);
    summary.skipped.push(...written.skipped);
    batch = [];
  };
  const redated: Array<{ id: string } & FileDate> = [];
  const take = async (filePath: string, file: FileText) => {
    // A file the database cannot store is left out by name, instead of
    // failing its whole batch.
    const unstorable = unstorableText(filePath) ?? unstorableText(file.content);
    if (unstorable) {
      // The path itself may be what cannot be stored (in the audit entry).
      const shown = filePath.replaceAll("\u0000", "\ufffd").toWellFormed();
      summary.skipped.push({ path: shown, problem: unstorable });

      return;
    }
    if (file.warning) {
      summary.warnings.push({ path: filePath, problem: file.warning });
    }
    const known = stored.get(filePath);
    if (known?.contentHash === contentHash(file.content)) {
      summary.unchanged++;
      // Same text, but a known date that moved (another commit, or git
      // dates replacing file times) is still worth storing.
      if (file.modifiedAt && !sameDate(known, file)) {
        redated.push({ id: known.id, ...file });
      }
    } else {
      batch.push({ path: filePath, ...file });
      if (batch.length >= FILES_PER_BATCH) await flush();
    }
  };
  for (const [i, filePath] of run.paths.entries()) {
    await take(filePath, await run.read(filePath));
    run.onProgress?.({ done: i + 1, total: run.paths.length, path: filePath });
  }
  await flush();
  if (
    run.removeMissing &&
    !run.allowEmpty &&
    summary.indexed + summary.unchanged === 0
  ) {
    // Nothing has been written yet: every file was skipped.
    throw nothingIndexable(
      { source, version },
      { seen: run.paths.length, skipped: summary.skipped },
    );
  }
  if (redated.length > 0) {
    await db.transaction(async (tx) => {
      for (const file of redated) {
        await tx
          .update(contextDocuments)
          .set({
            modifiedAt: file.modifiedAt,
            modifiedBy: file.modifiedBy ?? null,
            modifiedSource: file.modifiedSource ?? "file",
          })
          .where(eq(contextDocuments.id, file.id));
      }
    });
    summary.redated = redated.length;
  }

  if (run.removeMissing) {
    const present = new Set(run.paths);
    const gone = [...stored.values()].filter((d) => !present.has(d.path));
    for (let i = 0; i < gone.length; i += SECTIONS_PER_INSERT) {
      const ids = gone.slice(i, i + SECTIONS_PER_INSERT).map((d) => d.id);
      await db
        .delete(contextDocuments)
        .where(inArray(contextDocuments.id, ids));
    }
    summary.removed = gone.length;
  }
  // Statuses depend on the whole source (other versions, duplicates), so
  // they are worked out again after every run, changed or not.
  const classified = await classifySource(db, project.id, source);
  summary.statuses = classified.statuses;
  for (const warning of classified.warnings) {
    if (warning.version !== version) continue;
    summary.warnings.push({
      path: warning.path,
      problem: warning.problem,
      statusRule: true,
    });
  }
  if (summary.indexed > 0 || summary.removed > 0) {
    // Fresh planner statistics: embedded PGlite has no autovacuum, and
    // without them the ranking joins pick slow plans after a bulk load.
    await db.execute(sql`analyze context_documents, context_sections`);
  }
  // The words the source's canonical sections relate depend on which
  // documents are canonical, so they are learned again with the statuses.
  summary.termLinks = await rebuildTermLinks(db, project.id, source);
  summary.durationMs = Math.round(performance.now() - started);
  const byPath = (a: FileProblem, b: FileProblem) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  summary.skipped.sort(byPath);
  summary.warnings.sort(byPath);

  await recordAudit(db, actor, {
    projectId: project.id,
    action: "context.index",
    targetType: "context_source",
    targetId: version ? `${source}@${version}` : source,
    // The first problems are enough to act on; a folder of thousands of
    // bad files would otherwise make one huge audit entry.
    details: {
      ...summary,
      skipped: summary.skipped.slice(0, AUDITED_PROBLEMS),
      warnings: summary.warnings.slice(0, AUDITED_PROBLEMS),
    },
  });

  return summary;
}

/** The refusal of a folder run with nothing to index: removing every
 * document of the source is more often a mistake (a mistyped or wrong
 * path) than meant, so it needs allowEmpty. */
function nothingIndexable(
  where: { dir?: string; source: string; version: string },
  files: { seen: number; skipped: FileProblem[]; links?: number },
) {
  const [first, ...more] = files.skipped;
  const found =
    files.seen === 0
      ? `${where.dir} holds no markdown files (.md, .mdx)` +
        (files.links ? `, only symbolic links, which are not followed` : "")
      : `the folder holds no markdown files that can be indexed, ` +
        `${files.seen} skipped (${first?.path}: ${first?.problem}` +
        `${more.length > 0 ? `; and ${more.length} more` : ""})`;
  const label = where.version
    ? `${where.source}@${where.version}`
    : where.source;

  return invalidInput(
    `${found}. Nothing was indexed and nothing was removed; to remove ` +
      `every document of source ${label} on purpose, index it allowing ` +
      `an empty folder (--allow-empty)`,
    [{ path: "dir", message: "holds no markdown files" }],
  );
}

/** Indexes every .md/.mdx file under a folder into one source of a
 * project; documents whose files are gone are removed. */
export async function indexDirectory(
  db: Database,
  actor: Actor,
  input: z.input<typeof indexDirectoryInput>,
  onProgress?: ProgressListener,
): Promise<IndexSummary> {
  const {
    project: slug,
    dir,
    source,
    version,
    allowEmpty,
  } = parseInput(indexDirectoryInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "operator");
  const root = path.resolve(dir);
  const stat = await fs.stat(root).catch(() => null);
  if (!stat?.isDirectory()) {
    throw invalidInput(`${dir} is not a folder`, [
      { path: "dir", message: "not a folder" },
    ]);
  }
  const { files: paths, links } = await listMarkdownFiles(root);
  if (paths.length === 0 && !allowEmpty) {
    throw nothingIndexable(
      { dir, source, version },
      { seen: 0, skipped: [], links: links.length },
    );
  }
  // One git log for the whole folder; null outside a working tree.
  const git = await gitDates(root);

  return runIndex(db, actor, {
    project,
    source,
    version,
    paths,
    skipped: links.map((link) => ({
      path: link,
      problem: "a symbolic link; links are not followed",
    })),
    read: async (p) => {
      const file = path.join(root, p);
      const [text, stat] = await Promise.all([readText(file), fs.stat(file)]);
      const commit = git?.changed.has(p) ? undefined : git?.committed.get(p);
      if (commit) return { ...text, ...commit, modifiedSource: "git" };

      // Uncommitted, untracked, ignored, or no git: the file's own time.
      return { ...text, modifiedAt: stat.mtime, modifiedSource: "file" };
    },
    removeMissing: true,
    allowEmpty,
    onProgress,
  });
}

/** Indexes uploaded files into a source; other documents are kept. */
export async function indexDocuments(
  db: Database,
  actor: Actor,
  input: z.input<typeof indexDocumentsInput>,
): Promise<IndexSummary> {
  // A file whose text PostgreSQL cannot store is skipped by name (see
  // runIndex) instead of refusing the whole upload, so only the other
  // fields get parseInput's check for such characters.
  const parsed = indexDocumentsInput.safeParse(input);
  const { files } = parsed.success
    ? parsed.data
    : parseInput(indexDocumentsInput, input);
  const {
    project: slug,
    source,
    version,
  } = parseInput(indexDocumentsInput.omit({ files: true }), input);
  const { project } = await requireProjectRole(db, actor, slug, "operator");
  // The last copy of a path in one upload wins.
  const contents = new Map(files.map((f) => [f.path, f.content]));

  return runIndex(db, actor, {
    project,
    source,
    version,
    paths: [...contents.keys()].sort(),
    read: async (p) => ({ content: contents.get(p) ?? "", modifiedAt: null }),
    removeMissing: false,
  });
}
