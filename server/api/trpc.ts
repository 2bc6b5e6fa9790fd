import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z, ZodError } from "zod";
import type { Database } from "@/db/client";
import { getDatabase } from "@/db/runtime";
import { DomainError, errorTable } from "@/server/errors";
import { logger } from "@/server/log";
import type { Actor, Role } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { sessionActor } from "@/server/identity/session";
import { zodIssues } from "@/server/input";

// tRPC for the console. Procedure tiers are named for the authority they
// check: public, signed in (`authedProcedure`) and a role in the project
// named by the input's `project` field (`projectProcedure(role)`).

export interface TrpcContext {
  db: Database;
  actor: Extract<Actor, { kind: "user" }> | null;
}

export async function createTrpcContext(opts: {
  headers: Headers;
}): Promise<TrpcContext> {
  const { db } = await getDatabase();
  const actor = await sessionActor(opts.headers);

  return { db, actor };
}

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const domain = cause instanceof DomainError ? cause : null;
    const issues = cause instanceof ZodError ? zodIssues(cause) : null;

    return {
      ...shape,
      message:
        shape.data.code === "INTERNAL_SERVER_ERROR" && !domain
          ? "Internal error"
          : shape.message,
      data: {
        ...shape.data,
        stack: undefined,
        domainCode: domain?.code ?? null,
        details: domain?.details ?? issues ?? null,
      },
    };
  },
});

// Domain errors become tRPC errors with the code from the one error table.
const mapErrors = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof DomainError) {
      throw new TRPCError({
        code: errorTable[cause.code].trpc,
        message: cause.message,
        cause,
      });
    }
    if (result.error.code === "INTERNAL_SERVER_ERROR") {
      logger.error({ err: result.error, path }, "trpc procedure failed");
    }
  }

  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.actor) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  }

  return next({ ctx: { ...ctx, actor: ctx.actor } });
});

/** Needs at least `role` in the project named by `input.project`. */
export function projectProcedure(role: Role) {
  return authedProcedure
    .input(z.object({ project: z.string().min(1) }))
    .use(async ({ ctx, input, next }) => {
      const access = await requireProjectRole(
        ctx.db,
        ctx.actor,
        input.project,
        role,
      );

      return next({ ctx: { ...ctx, ...access } });
    });
}
