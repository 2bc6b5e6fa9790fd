import { z } from "zod";
import {
  getSession,
  listSessions,
  listSessionsInput,
  sessionDetailInput,
} from "@/server/observability/sessions";
import {
  listSessionEvents,
  sessionEventsInput,
} from "@/server/observability/session-events";
import {
  listSessionUpdates,
  sessionUpdatesInput,
} from "@/server/observability/session-updates";
import {
  verifyChainInput,
  verifySessionChain,
} from "@/server/observability/chain";
import { projectSpend, spendInput } from "@/server/observability/spend";
import {
  createFlagRule,
  createFlagRuleInput,
  deleteFlagRule,
  deleteFlagRuleInput,
  listFlagRules,
  updateFlagRule,
  updateFlagRuleInput,
} from "@/server/observability/flag-rules";
import {
  spendOverview,
  spendOverviewInput,
} from "@/server/observability/spend-overview";
import { spendOverviewCsv } from "@/server/observability/spend-overview-csv";
import {
  getRetentionSettings,
  updateRetentionSettings,
} from "@/server/observability/retention";
import {
  createPriceOverride,
  createPriceOverrideInput,
  deletePriceOverride,
  deletePriceOverrideInput,
  listPriceOverrides,
  listPriceOverridesInput,
} from "@/server/observability/price-overrides";
import {
  listUnpricedModels,
  repriceInput,
  repriceUnpriced,
  unpricedModelsInput,
} from "@/server/observability/reprice";
import { authedProcedure, projectProcedure, router } from "../trpc";

// Observability for the console: sessions, one session's events, and
// spend. The same domain functions serve the read API for people.

export const observabilityRouter = router({
  sessions: router({
    list: projectProcedure("viewer")
      .input(listSessionsInput)
      .query(({ ctx, input }) => listSessions(ctx.db, ctx.actor, input)),
    detail: projectProcedure("viewer")
      .input(sessionDetailInput)
      .query(({ ctx, input }) => getSession(ctx.db, ctx.actor, input)),
    /** One page of a session's timeline, after `cursor`. */
    events: projectProcedure("viewer")
      .input(sessionEventsInput)
      .query(({ ctx, input }) => listSessionEvents(ctx.db, ctx.actor, input)),
    /** Events that arrived after a chain position, with fresh totals:
     * what keeps an open session page live. */
    updates: projectProcedure("viewer")
      .input(sessionUpdatesInput)
      .query(({ ctx, input }) => listSessionUpdates(ctx.db, ctx.actor, input)),
    /** Whether the session's hash chain still verifies. */
    chain: projectProcedure("viewer")
      .input(verifyChainInput)
      .query(({ ctx, input }) => verifySessionChain(ctx.db, ctx.actor, input)),
  }),

  /** The project's own red-flag rules; admins change them. */
  flagRules: router({
    list: projectProcedure("viewer").query(({ ctx, input }) =>
      listFlagRules(ctx.db, ctx.actor, input),
    ),
    create: projectProcedure("admin")
      .input(createFlagRuleInput)
      .mutation(({ ctx, input }) => createFlagRule(ctx.db, ctx.actor, input)),
    update: projectProcedure("admin")
      .input(updateFlagRuleInput)
      .mutation(({ ctx, input }) => updateFlagRule(ctx.db, ctx.actor, input)),
    delete: projectProcedure("admin")
      .input(deleteFlagRuleInput)
      .mutation(({ ctx, input }) => deleteFlagRule(ctx.db, ctx.actor, input)),
  }),

  spend: projectProcedure("viewer")
    .input(spendInput)
    .query(({ ctx, input }) => projectSpend(ctx.db, ctx.actor, input)),

  // The Spend page: one read for its charts and tables, and the same as
  // CSV for its download.
  spendOverview: projectProcedure("viewer")
    .input(spendOverviewInput)
    .query(({ ctx, input }) => spendOverview(ctx.db, ctx.actor, input)),
  spendOverviewCsv: projectProcedure("viewer")
    .input(spendOverviewInput)
    .query(({ ctx, input }) => spendOverviewCsv(ctx.db, ctx.actor, input)),

  // How long raw events and rollups are kept (admins change it).
  retention: router({
    get: projectProcedure("viewer").query(({ ctx }) =>
      getRetentionSettings(ctx.db, ctx.actor, { project: ctx.project.id }),
    ),
    update: projectProcedure("admin")
      .input(
        z.object({
          eventRetentionDays: z.number(),
          rollupRetentionDays: z.number(),
        }),
      )
      .mutation(({ ctx, input }) =>
        updateRetentionSettings(ctx.db, ctx.actor, {
          ...input,
          project: ctx.project.id,
        }),
      ),
  }),

  // The Prices page: the table in force, the project's own prices, the
  // models nothing prices, and repricing them. The domain functions check
  // the role (admin to change anything).
  prices: router({
    list: authedProcedure
      .input(listPriceOverridesInput)
      .query(({ ctx, input }) => listPriceOverrides(ctx.db, ctx.actor, input)),
    createOverride: authedProcedure
      .input(createPriceOverrideInput)
      .mutation(({ ctx, input }) =>
        createPriceOverride(ctx.db, ctx.actor, input),
      ),
    deleteOverride: authedProcedure
      .input(deletePriceOverrideInput)
      .mutation(({ ctx, input }) =>
        deletePriceOverride(ctx.db, ctx.actor, input),
      ),
    unpriced: authedProcedure
      .input(unpricedModelsInput)
      .query(({ ctx, input }) => listUnpricedModels(ctx.db, ctx.actor, input)),
    reprice: authedProcedure
      .input(repriceInput)
      .mutation(({ ctx, input }) => repriceUnpriced(ctx.db, ctx.actor, input)),
  }),
});
