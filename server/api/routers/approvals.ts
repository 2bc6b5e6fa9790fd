import { z } from "zod";
import {
  approvalIdInput,
  countPendingApprovals,
  decideApproval,
  decideApprovalInput,
  getApproval,
  listApprovals,
  listApprovalsInput,
} from "@/server/guardrails/approvals";
import { authedProcedure, router } from "../trpc";

// The approvals queue for the console: read by anyone in the project,
// decided by its operators (or admins, where an item needs one). The
// domain functions check the roles.

export const approvalsRouter = router({
  list: authedProcedure
    .input(listApprovalsInput)
    .query(({ ctx, input }) => listApprovals(ctx.db, ctx.actor, input)),
  /** Pending items, for the navigation badge. */
  count: authedProcedure
    .input(z.object({ project: z.string().min(1) }))
    .query(({ ctx, input }) => countPendingApprovals(ctx.db, ctx.actor, input)),
  get: authedProcedure
    .input(approvalIdInput)
    .query(({ ctx, input }) => getApproval(ctx.db, ctx.actor, input)),
  decide: authedProcedure
    .input(decideApprovalInput)
    .mutation(({ ctx, input }) => decideApproval(ctx.db, ctx.actor, input)),
});
