import { sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";
import { priceFor } from "@/server/observability/prices";
import { now } from "@/server/runtime";

// The savings ledger: what agents' context lookups saved against reading
// whole documents. Each lookup row holds the tokens served and two
// baselines (the served section's whole document, and the three best
// whole documents the ranking found); a lookup saves the baseline minus
// what it served. Only agents' answered lookups count: a no-answer saved
// nothing, and the console playground and the eval are kept apart.

/** Priced when an agent has no model in its events: a mid-priced model
 * of prices.ts, so a dollar figure is shown rather than none. */
export const DEFAULT_SAVINGS_MODEL = "claude-sonnet-4";

export const contextSavingsInput = z.object({
  project: z.string().min(1),
  /** UTC days back from today, today included. */
  days: z.number().int().min(1).max(366).default(30),
});

export interface SavingsFigures {
  lookups: number;
  answered: number;
  /** Lookups answered "no answer": counted, never credited. */
  abstained: number;
  servedTokens: number;
  documentTokens: number;
  top3Tokens: number;
  savedVsDocument: number;
  savedVsTop3: number;
  usdSavedVsDocument: number;
  usdSavedVsTop3: number;
}

export interface SavingsDay extends SavingsFigures {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  agentId: string;
  agentName: string;
}

export interface SavingsAgent extends SavingsFigures {
  agentId: string;
  agentName: string;
  /** The model the dollars are priced at. */
  model: string;
  /** "events": the model the agent used most in its events; "default":
   * it reported none that is priced, so DEFAULT_SAVINGS_MODEL. */
  modelSource: "events" | "default";
  inputUsdPerMillion: number;
}

export interface MeasuredCorrectness {
  /** hit@1 of the latest recorded eval run. */
  hitAt1: number;
  evalRunId: string;
  evaluatedAt: Date;
  /** "project": a run on this project; "instance": a run recorded
   * without a project, used when the project has none. */
  scope: "project" | "instance";
}

export interface ContextSavings {
  from: Date;
  to: Date;
  /** Estimate: every answered lookup credited in full. */
  estimate: SavingsFigures;
  /** The estimate times hit@1 of the latest eval, or null when no eval
   * has been recorded: savings only count when the answer was right. */
  atMeasuredCorrectness: (SavingsFigures & MeasuredCorrectness) | null;
  agents: SavingsAgent[];
  /** Per agent and UTC day, oldest first; days without lookups left out. */
  days: SavingsDay[];
  /** Lookups by people (console playground) and tools (eval, CLI):
   * not agents' reading, so not in the savings above. */
  otherLookups: { lookups: number; answered: number };
}

interface LedgerRow {
  day: string;
  agent_id: string;
  agent_name: string;
  lookups: number;
  answered: number;
  served: number;
  document: number;
  top3: number;
  saved_document: number;
  saved_top3: number;
}

const zero = (): SavingsFigures => ({
  lookups: 0,
  answered: 0,
  abstained: 0,
  servedTokens: 0,
  documentTokens: 0,
  top3Tokens: 0,
  savedVsDocument: 0,
  savedVsTop3: 0,
  usdSavedVsDocument: 0,
  usdSavedVsTop3: 0,
});

const cents = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** Dollars for input tokens at a per-million price. */
export function tokensToUsd(tokens: number, usdPerMillion: number): number {
  return cents((tokens * usdPerMillion) / 1_000_000);
}

const figureKeys = Object.keys(zero()) as (keyof SavingsFigures)[];

function add(total: SavingsFigures, part: SavingsFigures) {
  for (const key of figureKeys) {
    total[key] += part[key];
  }
  total.usdSavedVsDocument = cents(total.usdSavedVsDocument);
  total.usdSavedVsTop3 = cents(total.usdSavedVsTop3);
}

/** Every figure times the measured share of right answers; counts of
 * lookups are left as they are. */
export function atCorrectness(
  figures: SavingsFigures,
  hitAt1: number,
): SavingsFigures {
  const scale = (n: number) => Math.round(n * hitAt1);

  return {
    ...figures,
    savedVsDocument: scale(figures.savedVsDocument),
    savedVsTop3: scale(figures.savedVsTop3),
    usdSavedVsDocument: cents(figures.usdSavedVsDocument * hitAt1),
    usdSavedVsTop3: cents(figures.usdSavedVsTop3 * hitAt1),
  };
}

/** The model each agent used most in its events, priced; agents with no
 * priced model get the default. */
async function agentModels(
  db: Database,
  projectId: string,
  agentIds: string[],
): Promise<Map<string, { model: string; source: "events" | "default" }>> {
  const models = new Map<
    string,
    { model: string; source: "events" | "default" }
  >();
  if (agentIds.length > 0) {
    const rows = await queryRows<{ agent_id: string; model: string }>(
      db,
      sql`select distinct on (agent_id) agent_id, model
            from events
           where project_id = ${projectId} and model is not null
             and agent_id in (${sql.join(
               agentIds.map((id) => sql`${id}::uuid`),
               sql`, `,
             )})
           group by agent_id, model
           order by agent_id, count(*) desc, model`,
    );
    for (const row of rows) {
      if (priceFor(row.model)) {
        models.set(row.agent_id, { model: row.model, source: "events" });
      }
    }
  }
  for (const id of agentIds) {
    if (!models.has(id)) {
      models.set(id, { model: DEFAULT_SAVINGS_MODEL, source: "default" });
    }
  }

  return models;
}

/** The latest eval's hit@1: the project's own run, else an instance-wide
 * one (recorded without a project). */
async function latestCorrectness(
  db: Database,
  projectId: string,
): Promise<MeasuredCorrectness | null> {
  const [run] = await queryRows<{
    id: string;
    hit_at_1: number;
    created_at: string | Date;
    project_id: string | null;
  }>(
    db,
    sql`select id, hit_at_1, created_at, project_id
          from context_eval_runs
         where project_id = ${projectId} or project_id is null
         order by (project_id is not null) desc, created_at desc
         limit 1`,
  );
  if (!run) return null;

  return {
    hitAt1: Number(run.hit_at_1),
    evalRunId: run.id,
    evaluatedAt: new Date(run.created_at),
    scope: run.project_id ? "project" : "instance",
  };
}

/** Tokens and dollars agents' lookups saved per agent and UTC day over
 * the last `days` days, as an estimate and at measured correctness. */
export async function contextSavings(
  db: Database,
  actor: Actor,
  input: z.input<typeof contextSavingsInput>,
): Promise<ContextSavings> {
  const { project: slug, days } = parseInput(contextSavingsInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const to = now();
  const today = Date.UTC(
    to.getUTCFullYear(),
    to.getUTCMonth(),
    to.getUTCDate(),
  );
  const from = new Date(today - (days - 1) * 86_400_000);

  // A lookup saves its baseline minus what it served, never less than
  // nothing; a no-answer saves nothing whatever its baselines say.
  const rows = await queryRows<LedgerRow>(
    db,
    sql`select to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
               l.agent_id, a.name as agent_name,
               count(*)::int as lookups,
               count(*) filter (where l.answered)::int as answered,
               coalesce(sum(l.served_tokens) filter (where l.answered), 0)
                 ::bigint as served,
               coalesce(sum(l.document_tokens) filter (where l.answered), 0)
                 ::bigint as document,
               coalesce(sum(l.top3_tokens) filter (where l.answered), 0)
                 ::bigint as top3,
               coalesce(sum(greatest(l.document_tokens - l.served_tokens, 0))
                 filter (where l.answered), 0)::bigint as saved_document,
               coalesce(sum(greatest(l.top3_tokens - l.served_tokens, 0))
                 filter (where l.answered), 0)::bigint as saved_top3
          from context_lookups l
          join agents a on a.id = l.agent_id
         where l.project_id = ${project.id}
           and l.created_at >= ${from.toISOString()}::timestamptz
           and l.created_at <= ${to.toISOString()}::timestamptz
         group by 1, l.agent_id, a.name
         order by 1, a.name`,
  );
  const [other] = await queryRows<{ lookups: number; answered: number }>(
    db,
    sql`select count(*)::int as lookups,
               count(*) filter (where answered)::int as answered
          from context_lookups
         where project_id = ${project.id} and agent_id is null
           and created_at >= ${from.toISOString()}::timestamptz
           and created_at <= ${to.toISOString()}::timestamptz`,
  );

  const agentIds = [...new Set(rows.map((r) => r.agent_id))];
  const models = await agentModels(db, project.id, agentIds);
  const agents = new Map<string, SavingsAgent>();
  const estimate = zero();
  const dayRows: SavingsDay[] = rows.map((row) => {
    const { model, source } = models.get(row.agent_id) ?? {
      model: DEFAULT_SAVINGS_MODEL,
      source: "default" as const,
    };
    const price = priceFor(model)?.input ?? 0;
    const figures: SavingsFigures = {
      lookups: Number(row.lookups),
      answered: Number(row.answered),
      abstained: Number(row.lookups) - Number(row.answered),
      servedTokens: Number(row.served),
      documentTokens: Number(row.document),
      top3Tokens: Number(row.top3),
      savedVsDocument: Number(row.saved_document),
      savedVsTop3: Number(row.saved_top3),
      usdSavedVsDocument: tokensToUsd(Number(row.saved_document), price),
      usdSavedVsTop3: tokensToUsd(Number(row.saved_top3), price),
    };
    let agent = agents.get(row.agent_id);
    if (!agent) {
      agent = {
        agentId: row.agent_id,
        agentName: row.agent_name,
        model,
        modelSource: source,
        inputUsdPerMillion: price,
        ...zero(),
      };
      agents.set(row.agent_id, agent);
    }
    add(agent, figures);
    add(estimate, figures);

    return {
      day: row.day,
      agentId: row.agent_id,
      agentName: row.agent_name,
      ...figures,
    };
  });
  const correctness = await latestCorrectness(db, project.id);

  return {
    from,
    to,
    estimate,
    atMeasuredCorrectness: correctness
      ? { ...atCorrectness(estimate, correctness.hitAt1), ...correctness }
      : null,
    agents: [...agents.values()],
    days: dayRows,
    otherLookups: {
      lookups: Number(other?.lookups ?? 0),
      answered: Number(other?.answered ?? 0),
    },
  };
}
