import { z } from "zod";
import {
  answerQuestion,
  browseDocuments,
  browseDocumentsInput,
  contextTiers,
  getContextSettings,
  getDocument,
  restoreNote,
  updateContextSettings,
  contextSavings,
  indexDocuments,
  listDocuments,
  setDocumentStatus,
} from "@/server/context";
import { authedProcedure, projectProcedure, router } from "../trpc";

// The console's context procedures: the search playground, the documents
// list and the markdown upload. Each calls one domain function.

export const contextRouter = router({
  // Tokens and dollars agents' lookups saved per agent and UTC day, as an
  // estimate and at the latest eval's hit@1. The domain function checks
  // the viewer role on the project.
  savings: authedProcedure
    .input(
      z.object({
        projectSlug: z.string().min(1),
        days: z.number().int().min(1).max(366).default(30),
      }),
    )
    .query(({ ctx, input }) =>
      contextSavings(ctx.db, ctx.actor, {
        project: input.projectSlug,
        days: input.days,
      }),
    ),
  // A mutation, not a query: every search is logged as a lookup, and a
  // refetch on window focus must not log it again.
  search: projectProcedure("viewer")
    .input(
      z.object({
        q: z.string().trim().min(1).max(1000),
        source: z.string().trim().min(1).max(100).optional(),
        includeStale: z.boolean().optional(),
        tier: z.enum(contextTiers).optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      answerQuestion(ctx.db, ctx.actor, {
        project: ctx.project.id,
        q: input.q,
        source: input.source,
        includeStale: input.includeStale,
        tier: input.tier,
      }),
    ),
  documents: projectProcedure("viewer")
    .input(z.object({ source: z.string().min(1).optional() }))
    .query(({ ctx, input }) =>
      listDocuments(ctx.db, ctx.actor, {
        project: ctx.project.id,
        source: input.source,
      }),
    ),
  // One page of documents under the console's filters, with counts.
  browse: projectProcedure("viewer")
    .input(browseDocumentsInput.omit({ project: true }))
    .query(({ ctx, input }) =>
      browseDocuments(ctx.db, ctx.actor, { ...input, project: ctx.project.id }),
    ),
  document: projectProcedure("viewer")
    .input(z.object({ documentId: z.string() }))
    .query(({ ctx, input }) =>
      getDocument(ctx.db, ctx.actor, {
        project: ctx.project.id,
        documentId: input.documentId,
      }),
    ),
  settings: projectProcedure("viewer").query(({ ctx }) =>
    getContextSettings(ctx.db, ctx.actor, { project: ctx.project.id }),
  ),
  // Brings back an agent-written document that was deleted.
  restore: projectProcedure("operator")
    .input(z.object({ documentId: z.string() }))
    .mutation(({ ctx, input }) =>
      restoreNote(ctx.db, ctx.actor, {
        project: ctx.project.id,
        documentId: input.documentId,
      }),
    ),
  // The age after which unchanged documents are flagged (admins only).
  setSettings: projectProcedure("admin")
    .input(z.object({ staleAfterDays: z.number().nullable() }))
    .mutation(({ ctx, input }) =>
      updateContextSettings(ctx.db, ctx.actor, {
        project: ctx.project.id,
        staleAfterDays: input.staleAfterDays,
      }),
    ),
  // Pin a document canonical, mark it stale, or hand it back to the rules.
  setStatus: projectProcedure("operator")
    .input(
      z.object({
        documentId: z.string(),
        status: z.enum(["canonical", "stale", "auto"]),
        reason: z.string().optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      setDocumentStatus(ctx.db, ctx.actor, {
        project: ctx.project.id,
        documentId: input.documentId,
        status: input.status,
        reason: input.reason,
      }),
    ),
  upload: projectProcedure("operator")
    .input(
      z.object({
        source: z.string().min(1).optional(),
        version: z.string().optional(),
        files: z
          .array(z.object({ path: z.string(), content: z.string() }))
          .min(1),
      }),
    )
    .mutation(({ ctx, input }) =>
      indexDocuments(ctx.db, ctx.actor, {
        project: ctx.project.id,
        source: input.source,
        version: input.version,
        files: input.files,
      }),
    ),
});
