import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z } from "zod";
import type { Database } from "@/db/client";
import { getDatabase } from "@/db/runtime";
import { classifyFailure, DomainError, errorTable } from "@/server/errors";
import { logger } from "@/server/log";
import type { Actor, Role } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { sessionActor } from "@/server/identity/session";

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
  try {
    const { db } = await getDatabase();
    const actor = await sessionActor(opts.headers);

    return { db, actor };
  } catch (error) {
    const known = classifyFailure(error);
    if (known?.code !== "unavailable") throw error;
    logger.error({ err: error }, "database unavailable");
    throw new TRPCError({
      code: errorTable.unavailable.trpc,
      message: known.message,
      cause: known,
    });
  }
}

const t = initTRPC.context<TrpcContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const domain = cause instanceof DomainError ? cause : null;
    const message =
      shape.data.code === "INTERNAL_SERVER_ERROR" && !domain
        ? "Internal error"
        : shape.message;

    return {
      ...shape,
      message,
      data: {
        ...shape.data,
        stack: undefined,
        domainCode: domain?.code ?? null,
        details: domain?.details ?? null,
      },
    };
  },
});

// Domain errors become tRPC errors with the code from the one error table.
const mapErrors = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = classifyFailure(result.error.cause);
    if (cause) {
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
