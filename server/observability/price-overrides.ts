import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, type Database } from "@/db/client";
import { priceOverrides } from "@/db/schema";
import { conflict, isUniqueViolation, notFound } from "@/server/errors";
import { requireProjectRole } from "@/server/identity/access";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { recordAudit } from "@/server/identity/audit";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  priceTableRows,
  PRICES_CHECKED_ON,
  type PriceOverride,
} from "./prices";

// A project's own prices: for models the table in the repository does not
// know (a self-hosted model, a new release) or prices it has negotiated.
// Anyone in the project reads them; an admin adds and deletes them. Ingest
// prices each event at the override in force at its time before the table;
// events already stored keep their cost until they are repriced
// (reprice.ts, for unpriced events).

/** Per-million rates stop below this: at the token caps (limits.ts) an
 * event then stays far inside the cost column. */
export const MAX_RATE_USD = 10_000;

const rate = (what: string) =>
  z
    .number({ error: `${what} must be a number of USD per million tokens` })
    .finite(`${what} must be a number of USD per million tokens`)
    .min(0, `${what} must be 0 or more`)
    .lt(MAX_RATE_USD, `${what} must be below ${MAX_RATE_USD} USD`)
    .refine(
      (value) => Number(value.toFixed(6)) === value,
      `${what} has at most 6 decimal places`,
    );

// Model ids are letters, digits and . - _ : / @ (provider prefixes, dated
// and tagged ids); * stands for any run of them.
const globPattern = z
  .string()
  .trim()
  .min(1, {
    message: "Pattern is required, e.g. llama-3.1-* or my-model",
    abort: true,
  })
  .max(200, "Pattern must be at most 200 characters")
  .regex(
    /^[A-Za-z0-9._:/@*-]+$/,
    "Pattern may hold letters, digits, . - _ : / @ and * (any run of characters)",
  )
  .refine((glob) => glob.replace(/\*/g, "") !== "", {
    message: "Pattern must hold at least one character besides *",
  })
  .transform((glob) => glob.toLowerCase());

const effectiveDate = z.coerce
  .date({ error: "Effective from must be a date, e.g. 2026-12-01" })
  .refine(
    (date) => date.getUTCFullYear() >= 2000 && date.getUTCFullYear() <= 2100,
    "Effective from must be between the years 2000 and 2100",
  );

export const listPriceOverridesInput = z.object({
  project: z.string().min(1),
});

export const createPriceOverrideInput = z
  .object({
    project: z.string().min(1),
    pattern: globPattern,
    label: z
      .string()
      .trim()
      .max(100, "Label must be at most 100 characters")
      .nullish(),
    input: rate("Input"),
    output: rate("Output"),
    /** Omitted: the input rate (a provider without cache pricing bills
     * cached tokens as plain input). */
    cacheRead: rate("Cache read").optional(),
    cacheWrite5m: rate("Cache write (5 min)").optional(),
    cacheWrite1h: rate("Cache write (1 h)").optional(),
    /** Omitted: in force for every event, earlier ones included, so
     * repricing reaches everything the model left unpriced. */
    effectiveFrom: effectiveDate.optional(),
  })
  .strict();

/** The effective date of a price given none: before any event. */
export const ALL_TIME = new Date("2000-01-01T00:00:00.000Z");

export const deletePriceOverrideInput = z.object({
  project: z.string().min(1),
  override: z.uuid("Override must be an override id"),
});

type OverrideRow = typeof priceOverrides.$inferSelect;

export interface PriceOverrideView extends PriceOverride {
  createdBy: string | null;
  createdAt: Date;
}

function toOverride(row: OverrideRow): PriceOverrideView {
  return {
    id: row.id,
    pattern: row.pattern,
    label: row.label,
    input: Number(row.inputUsd),
    output: Number(row.outputUsd),
    cacheRead: Number(row.cacheReadUsd),
    cacheWrite5m: Number(row.cacheWrite5mUsd),
    cacheWrite1h: Number(row.cacheWrite1hUsd),
    effectiveFrom: row.effectiveFrom,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
  };
}

/** Every override of a project, for pricing (ingest, repricing). */
export async function projectPriceOverrides(
  db: Database,
  projectId: string,
): Promise<PriceOverride[]> {
  const rows = await db
    .select()
    .from(priceOverrides)
    .where(eq(priceOverrides.projectId, projectId));

  return rows.map(toOverride);
}

/** The table in the repository as in force now, and the project's
 * overrides. */
export async function listPriceOverrides(
  db: Database,
  actor: Actor,
  input: z.input<typeof listPriceOverridesInput>,
) {
  const values = parseInput(listPriceOverridesInput, input);
  const { project, role } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const rows = await db
    .select()
    .from(priceOverrides)
    .where(eq(priceOverrides.projectId, project.id))
    .orderBy(asc(priceOverrides.pattern), asc(priceOverrides.effectiveFrom));

  return {
    overrides: rows.map(toOverride),
    table: priceTableRows(),
    tableCheckedOn: PRICES_CHECKED_ON,
    canEdit: role === "admin",
  };
}

/** Adds an override; one pattern has at most one price per start date. */
export async function createPriceOverride(
  db: Database,
  actor: Actor,
  input: z.input<typeof createPriceOverrideInput>,
): Promise<PriceOverrideView> {
  const values = parseInput(createPriceOverrideInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const effectiveFrom = values.effectiveFrom ?? ALL_TIME;
  const row: typeof priceOverrides.$inferInsert = {
    id: newId(),
    projectId: project.id,
    pattern: values.pattern,
    label: values.label || null,
    inputUsd: String(values.input),
    outputUsd: String(values.output),
    cacheReadUsd: String(values.cacheRead ?? values.input),
    cacheWrite5mUsd: String(values.cacheWrite5m ?? values.input),
    cacheWrite1hUsd: String(values.cacheWrite1h ?? values.input),
    effectiveFrom,
    createdBy: actorLabel(actor),
    createdAt: now(),
  };

  try {
    return await inTransaction(db, async (tx) => {
      const [stored] = await tx.insert(priceOverrides).values(row).returning();
      const created = toOverride(stored);
      await recordAudit(tx, actor, {
        projectId: project.id,
        action: "price_override.create",
        targetType: "price_override",
        targetId: created.id,
        details: auditDetails(created),
      });

      return created;
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const from = effectiveFrom.toISOString();
    throw conflict(
      `Pattern '${values.pattern}' already has a price from ${from}; ` +
        "delete that override first or pick another date",
      { pattern: values.pattern, effectiveFrom: from },
    );
  }
}

/** Deletes an override. Events it priced keep their cost. */
export async function deletePriceOverride(
  db: Database,
  actor: Actor,
  input: z.input<typeof deletePriceOverrideInput>,
): Promise<{ deleted: string }> {
  const values = parseInput(deletePriceOverrideInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return inTransaction(db, async (tx) => {
    const [removed] = await tx
      .delete(priceOverrides)
      .where(
        and(
          eq(priceOverrides.id, values.override),
          eq(priceOverrides.projectId, project.id),
        ),
      )
      .returning();
    if (!removed) throw notFound("Price override", values.override);
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "price_override.delete",
      targetType: "price_override",
      targetId: removed.id,
      details: auditDetails(toOverride(removed)),
    });

    return { deleted: removed.id };
  });
}

function auditDetails(override: PriceOverride) {
  return {
    pattern: override.pattern,
    label: override.label,
    input: override.input,
    output: override.output,
    cacheRead: override.cacheRead,
    cacheWrite5m: override.cacheWrite5m,
    cacheWrite1h: override.cacheWrite1h,
    effectiveFrom: override.effectiveFrom.toISOString(),
  };
}
