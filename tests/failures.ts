import { TRPCError } from "@trpc/server";
import { DomainError } from "@/server/errors";
import { setClock } from "@/server/runtime";

// What tests assert about refusals, and a clock they move by hand.

/** The status, message and details of the DomainError `promise` rejects
 * with; fails the test if it resolves or throws anything else. */
export async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) {
      return {
        status: error.status,
        message: error.message,
        details: error.details,
      };
    }
    throw error;
  }
  throw new Error("expected a rejection");
}

/** The tRPC code, message and domain details a procedure call fails with. */
export async function trpcFailure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    const cause = error.cause;

    return {
      code: error.code,
      message: error.message,
      details: cause instanceof DomainError ? cause.details : undefined,
    };
  }
  throw new Error("expected a failure");
}

/** Pins the domain clock at `start`; call setClock(null) after the test. */
export function pinClock(start = new Date("2030-01-01T00:00:00Z")) {
  let current = start.getTime();
  setClock(() => new Date(current));

  return {
    advance(seconds: number) {
      current += seconds * 1000;
    },
    at: () => new Date(current),
  };
}
