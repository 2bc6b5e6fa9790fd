import { authedProcedure, router } from "../trpc";
import {
  listProjectReservations,
  listProjectReservationsInput,
} from "@/server/orchestration";

// Path reservations for the console: a project's live ones (viewer role,
// checked by the domain function).
export const reservationsRouter = router({
  list: authedProcedure
    .input(listProjectReservationsInput)
    .query(({ ctx, input }) =>
      listProjectReservations(ctx.db, ctx.actor, input),
    ),
});
