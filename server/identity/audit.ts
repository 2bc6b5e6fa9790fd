import { and, desc, eq, gte, ilike, like, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { auditLog } from "@/db/schema";
import { now } from "@/server/runtime";
import { actorId, actorLabel, type Actor } from "./actor";
import { requireProjectRole } from "./access";
import { parseInput } from "@/server/input";

export interface AuditEntry {
  projectId?: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

/** Appends one row to the audit log; call it inside the same transaction
 * as the change it records. */
export async function recordAudit(
  db: Database,
  actor: Actor,
  entry: AuditEntry,
) {
  await db.insert(auditLog).values({
    projectId: entry.projectId ?? null,
    actorType: actor.kind,
    actorId: actorId(actor),
    actorLabel: actorLabel(actor),
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    details: entry.details ?? null,
    createdAt: now(),
  });
}

const auditFilters = {
  /** Part of the actor's label (an email, an agent's name), or its id. */
  actor: z.string().trim().max(200).optional(),
  actorType: z.enum(["user", "agent", "cli"]).optional(),
  /** The action or its start: "goal." matches goal.create, goal.update. */
  action: z.string().trim().max(100).optional(),
  targetType: z.string().trim().max(100).optional(),
  /** From this moment, inclusive. */
  from: z.coerce.date({ error: "Must be a date" }).optional(),
  /** Until this moment, exclusive. */
  to: z.coerce.date({ error: "Must be a date" }).optional(),
};

export const listAuditInput = z.object({
  project: z.string().min(1),
  ...auditFilters,
  limit: z.number().int().min(1).max(500).default(100),
  /** Rows older than this id, to page back through history. */
  before: z.number().int().positive().optional(),
});

export type AuditFilters = Omit<
  z.input<typeof listAuditInput>,
  "project" | "limit" | "before"
>;

/** `text` for a LIKE pattern, its wildcards taken literally. */
function likeText(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function auditWhere(
  projectId: string,
  values: z.infer<typeof listAuditInput>,
): SQL | undefined {
  const actor = values.actor || undefined;

  return and(
    eq(auditLog.projectId, projectId),
    values.before ? lt(auditLog.id, values.before) : undefined,
    actor
      ? or(
          ilike(auditLog.actorLabel, `%${likeText(actor)}%`),
          eq(auditLog.actorId, actor),
        )
      : undefined,
    values.actorType ? eq(auditLog.actorType, values.actorType) : undefined,
    values.action
      ? like(auditLog.action, `${likeText(values.action)}%`)
      : undefined,
    values.targetType ? eq(auditLog.targetType, values.targetType) : undefined,
    values.from ? gte(auditLog.createdAt, values.from) : undefined,
    values.to ? lt(auditLog.createdAt, values.to) : undefined,
  );
}

/** The project's audit log, newest first, filtered. */
export async function listAudit(
  db: Database,
  actor: Actor,
  input: z.input<typeof listAuditInput>,
) {
  const values = parseInput(listAuditInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );

  return db
    .select()
    .from(auditLog)
    .where(auditWhere(project.id, values))
    .orderBy(desc(auditLog.id))
    .limit(values.limit);
}

export type AuditRow = typeof auditLog.$inferSelect;

/** One page of the audit log and the cursor of the next (older) page,
 * null when this is the last. */
export async function auditPage(
  db: Database,
  actor: Actor,
  input: z.input<typeof listAuditInput>,
): Promise<{ rows: AuditRow[]; nextBefore: number | null }> {
  const limit = input.limit ?? 100;
  // One row more than asked says whether an older page exists.
  const rows = await listAudit(db, actor, { ...input, limit: limit + 1 });
  const page = rows.slice(0, limit);

  return {
    rows: page,
    nextBefore: rows.length > limit ? page[page.length - 1].id : null,
  };
}

/** Exports stop here; narrow the filters for more. */
export const AUDIT_EXPORT_MAX_ROWS = 50_000;
const EXPORT_PAGE = 500;

/** Every row the filters match (up to AUDIT_EXPORT_MAX_ROWS), newest
 * first, a page at a time so an export never holds them all. The role is
 * checked before the first row is read. */
export async function exportAudit(
  db: Database,
  actor: Actor,
  input: z.input<typeof listAuditInput>,
): Promise<AsyncGenerator<AuditRow[]>> {
  const values = parseInput(listAuditInput, {
    ...input,
    limit: EXPORT_PAGE,
  });
  // Checked here, so a refusal is an error before anything is sent.
  await requireProjectRole(db, actor, values.project, "viewer");

  async function* pages() {
    let before = values.before;
    let sent = 0;
    while (sent < AUDIT_EXPORT_MAX_ROWS) {
      const rows = await listAudit(db, actor, {
        ...values,
        before,
        limit: Math.min(EXPORT_PAGE, AUDIT_EXPORT_MAX_ROWS - sent),
      });
      if (rows.length === 0) return;
      sent += rows.length;
      yield rows;
      if (rows.length < EXPORT_PAGE) return;
      before = rows[rows.length - 1].id;
    }
  }

  return pages();
}

const CSV_COLUMNS = [
  "id",
  "created_at",
  "actor_type",
  "actor_id",
  "actor_label",
  "action",
  "target_type",
  "target_id",
  "details",
] as const;

/** One CSV field: quoted when needed, and a leading =, +, - or @ defused
 * so a spreadsheet does not run it as a formula. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === "object"
        ? JSON.stringify(value)
        : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;

  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function auditCsvHeader(): string {
  return `${CSV_COLUMNS.join(",")}\r\n`;
}

export function auditCsvLine(row: AuditRow): string {
  const cells = [
    row.id,
    row.createdAt,
    row.actorType,
    row.actorId,
    row.actorLabel,
    row.action,
    row.targetType,
    row.targetId,
    row.details,
  ];

  return `${cells.map(csvField).join(",")}\r\n`;
}

/** The audit filters a console URL carries (?actor=&type=&action=&target=
 * &from=&to=), as listAudit input. A date without a time in `to` means
 * the whole of that day (UTC). Empty values are no filter. */
export function auditFiltersFromQuery(
  query: Record<string, string | string[] | undefined>,
): AuditFilters {
  const one = (key: string) => {
    const value = query[key];
    const text = (Array.isArray(value) ? value[0] : value)?.trim();

    return text ? text : undefined;
  };
  const to = one("to");
  const type = one("type");

  return {
    actor: one("actor"),
    actorType: type as AuditFilters["actorType"],
    action: one("action"),
    targetType: one("target"),
    from: one("from"),
    to:
      to && /^\d{4}-\d{2}-\d{2}$/.test(to)
        ? new Date(Date.parse(`${to}T00:00:00Z`) + 24 * 60 * 60 * 1000)
        : to,
  };
}
