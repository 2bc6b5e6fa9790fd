import { z } from "zod";
import {
  answerQuestion,
  indexDocuments,
  listDocuments,
} from "@/server/context";
import { projectProcedure, router } from "../trpc";

// The console's context procedures: the search playground, the documents
// list and the markdown upload. Each calls one domain function.

export const contextRouter = router({
  // A mutation, not a query: every search is logged as a lookup, and a
  // refetch on window focus must not log it again.
  search: projectProcedure("viewer")
    .input(z.object({ q: z.string().trim().min(1).max(1000) }))
    .mutation(({ ctx, input }) =>
      answerQuestion(ctx.db, ctx.actor, {
        project: ctx.project.id,
        q: input.q,
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
  upload: projectProcedure("operator")
    .input(
      z.object({
        source: z.string().min(1).optional(),
        files: z
          .array(z.object({ path: z.string(), content: z.string() }))
          .min(1),
      }),
    )
    .mutation(({ ctx, input }) =>
      indexDocuments(ctx.db, ctx.actor, {
        project: ctx.project.id,
        source: input.source,
        files: input.files,
      }),
    ),
});
