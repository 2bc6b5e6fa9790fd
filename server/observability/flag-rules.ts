import { and, asc, count, eq } from "drizzle-orm";
import { z } from "zod";
import { inTransaction, type Database } from "@/db/client";
import { flagRules } from "@/db/schema";
import { actorLabel, type Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { recordAudit } from "@/server/identity/audit";
import {
  conflict,
  DomainError,
  isUniqueViolation,
  notFound,
} from "@/server/errors";
import { parseInput } from "@/server/input";
import { newId, now } from "@/server/runtime";
import {
  customRulePrefix,
  flagSeverities,
  type CustomFlagRule,
  type FlagSeverity,
} from "./flags";

// A project's own red-flag rules: viewers read them, admins add, switch on
// and off, change the severity of and delete them; every change is
// audited. Ingest applies the enabled ones beside the built-in rules
// (flags.ts), storing what they find as `custom.<name>`.

export const flagRuleKinds = ["substring", "path_glob"] as const;

/** A project's rules are all checked on every event, so they are few. */
export const MAX_FLAG_RULES = 100;
export const MAX_FLAG_PATTERN = 200;

/** Why `glob` is not a path glob flag rules can use, or null. Globs use
 * `*`, `**` and `?` (server/guardrails/match.ts); anything else is
 * literal, so the characters other glob dialects give a meaning are
 * refused rather than silently taken literally. */
export function pathGlobProblem(glob: string): string | null {
  if (/[\u0000-\u001f\u007f]/.test(glob)) {
    return "A path glob must not hold control characters";
  }
  if (/[[\]{}!]/.test(glob)) {
    return "Use only * ** and ? as wildcards; [ ] { } and ! are not supported";
  }
  if (glob.includes("\\")) return "Write paths with / rather than \\";
  if (/\*\*\*/.test(glob)) return "At most two * in a row (** crosses folders)";
  if (/\/\//.test(glob)) return "A path glob must not hold an empty folder //";
  for (const segment of glob.split("/")) {
    if (segment.includes("**") && segment !== "**") {
      return "** must be a whole folder, as in src/**/secrets";
    }
  }

  return null;
}

const name = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(64, "Name must be at most 64 characters")
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    "Name may hold lowercase letters, digits, . _ and -, starting with a " +
      "letter or digit",
  );

const severity = z.enum(flagSeverities, {
  error: "Severity must be low, medium, high or critical",
});

export const createFlagRuleInput = z
  .object({
    project: z.string().min(1),
    name,
    kind: z.enum(flagRuleKinds, {
      error: "Kind must be substring or path_glob",
    }),
    pattern: z
      .string()
      .trim()
      .min(1, "Pattern is required")
      .max(
        MAX_FLAG_PATTERN,
        `Pattern must be at most ${MAX_FLAG_PATTERN} characters`,
      ),
    severity,
    enabled: z.boolean().default(true),
  })
  .superRefine((value, ctx) => {
    const problem =
      value.kind === "path_glob" ? pathGlobProblem(value.pattern) : null;
    if (problem)
      ctx.addIssue({ code: "custom", path: ["pattern"], message: problem });
  });

export const updateFlagRuleInput = z
  .object({
    project: z.string().min(1),
    rule: z.uuid("Rule must be a rule id"),
    enabled: z.boolean().optional(),
    severity: severity.optional(),
  })
  .refine((v) => v.enabled !== undefined || v.severity !== undefined, {
    message: "Give enabled or severity to change",
    path: ["enabled"],
  });

export const deleteFlagRuleInput = z.object({
  project: z.string().min(1),
  rule: z.uuid("Rule must be a rule id"),
});

const projectInput = z.object({ project: z.string().min(1) });

export interface FlagRuleView {
  id: string;
  name: string;
  /** What ingest stores on the flags the rule raises. */
  ruleId: string;
  kind: (typeof flagRuleKinds)[number];
  pattern: string;
  severity: FlagSeverity;
  enabled: boolean;
  createdBy: string | null;
  createdAt: Date;
}

function toView(row: typeof flagRules.$inferSelect): FlagRuleView {
  return {
    id: row.id,
    name: row.name,
    ruleId: `${customRulePrefix}${row.name}`,
    kind: row.kind as FlagRuleView["kind"],
    pattern: row.pattern,
    severity: row.severity as FlagSeverity,
    enabled: row.enabled,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
  };
}

/** The project's rules, by name. */
export async function listFlagRules(
  db: Database,
  actor: Actor,
  input: z.input<typeof projectInput>,
): Promise<FlagRuleView[]> {
  const values = parseInput(projectInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "viewer",
  );
  const rows = await db
    .select()
    .from(flagRules)
    .where(eq(flagRules.projectId, project.id))
    .orderBy(asc(flagRules.name));

  return rows.map(toView);
}

export async function createFlagRule(
  db: Database,
  actor: Actor,
  input: z.input<typeof createFlagRuleInput>,
): Promise<FlagRuleView> {
  const values = parseInput(createFlagRuleInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );
  const taken = `Project ${project.slug} already has a flag rule named ${values.name}`;
  const nameTaken = new DomainError("conflict", taken, [
    { path: "name", message: "A rule with this name exists" },
  ]);
  try {
    return await inTransaction(db, async (tx) => {
      const [{ held }] = await tx
        .select({ held: count() })
        .from(flagRules)
        .where(eq(flagRules.projectId, project.id));
      if (held >= MAX_FLAG_RULES) {
        throw conflict(
          `A project holds at most ${MAX_FLAG_RULES} flag rules; delete ` +
            "one first",
          { limit: MAX_FLAG_RULES },
        );
      }
      const [rule] = await tx
        .insert(flagRules)
        .values({
          id: newId(),
          projectId: project.id,
          name: values.name,
          kind: values.kind,
          pattern: values.pattern,
          severity: values.severity,
          enabled: values.enabled,
          createdBy: actorLabel(actor),
          createdAt: now(),
        })
        .onConflictDoNothing()
        .returning();
      if (!rule) throw nameTaken;
      await recordAudit(tx, actor, {
        projectId: project.id,
        action: "observability.flag_rule.create",
        targetType: "flag_rule",
        targetId: rule.id,
        details: {
          name: rule.name,
          kind: rule.kind,
          pattern: rule.pattern,
          severity: rule.severity,
          enabled: rule.enabled,
        },
      });

      return toView(rule);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken;
    throw error;
  }
}

/** Switches a rule on or off, or changes its severity; flags already
 * raised keep the severity they were stored with. */
export async function updateFlagRule(
  db: Database,
  actor: Actor,
  input: z.input<typeof updateFlagRuleInput>,
): Promise<FlagRuleView> {
  const values = parseInput(updateFlagRuleInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return inTransaction(db, async (tx) => {
    const [before] = await tx
      .select()
      .from(flagRules)
      .where(
        and(eq(flagRules.id, values.rule), eq(flagRules.projectId, project.id)),
      )
      .for("update");
    if (!before) throw notFound(`Flag rule ${values.rule} in ${project.slug}`);
    const [rule] = await tx
      .update(flagRules)
      .set({
        ...(values.enabled !== undefined ? { enabled: values.enabled } : {}),
        ...(values.severity ? { severity: values.severity } : {}),
      })
      .where(eq(flagRules.id, before.id))
      .returning();
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "observability.flag_rule.update",
      targetType: "flag_rule",
      targetId: rule.id,
      details: {
        name: rule.name,
        before: { enabled: before.enabled, severity: before.severity },
        after: { enabled: rule.enabled, severity: rule.severity },
      },
    });

    return toView(rule);
  });
}

/** Deletes a rule; the flags it raised stay with their events. */
export async function deleteFlagRule(
  db: Database,
  actor: Actor,
  input: z.input<typeof deleteFlagRuleInput>,
): Promise<{ id: string }> {
  const values = parseInput(deleteFlagRuleInput, input);
  const { project } = await requireProjectRole(
    db,
    actor,
    values.project,
    "admin",
  );

  return inTransaction(db, async (tx) => {
    const [removed] = await tx
      .delete(flagRules)
      .where(
        and(eq(flagRules.id, values.rule), eq(flagRules.projectId, project.id)),
      )
      .returning();
    if (!removed) throw notFound(`Flag rule ${values.rule} in ${project.slug}`);
    await recordAudit(tx, actor, {
      projectId: project.id,
      action: "observability.flag_rule.delete",
      targetType: "flag_rule",
      targetId: removed.id,
      details: {
        name: removed.name,
        kind: removed.kind,
        pattern: removed.pattern,
        severity: removed.severity,
      },
    });

    return { id: removed.id };
  });
}

/** The project's enabled rules as ingest applies them; read once per
 * batch. */
export async function enabledFlagRules(
  db: Database,
  projectId: string,
): Promise<CustomFlagRule[]> {
  const rows = await db
    .select({
      name: flagRules.name,
      kind: flagRules.kind,
      pattern: flagRules.pattern,
      severity: flagRules.severity,
    })
    .from(flagRules)
    .where(and(eq(flagRules.projectId, projectId), eq(flagRules.enabled, true)))
    .orderBy(asc(flagRules.name));

  return rows.map((row) => ({
    name: row.name,
    kind: row.kind as CustomFlagRule["kind"],
    pattern: row.pattern,
    severity: row.severity as FlagSeverity,
  }));
}
