import { z } from "zod";
import {
  answerQuestion,
  indexDocuments,
  listDocuments,
  setDocumentStatus,
} from "@/server/context";
import { projectProcedure, router } from "../trpc";

// The console's context procedures: the search playground, the documents
// list and the markdown upload. Each calls one domain function.

export const contextRouter = router({
  // A mutation, not a query: every search is logged as a lookup, and a
  // refetch on window focus must not log it again.
  search: projectProcedure("viewer")
    .input(
      z.object({
        q: z.string().trim().min(1).max(1000),
        source: z.string().trim().min(1).max(100).optional(),
        includeStale: z.boolean().optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      answerQuestion(ctx.db, ctx.actor, {
        project: ctx.project.id,
        q: input.q,
        source: input.source,
        includeStale: input.includeStale,
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
