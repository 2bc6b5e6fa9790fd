import { z } from "zod";
import {
  listNotifications,
  listNotificationsInput,
  markAllNotificationsRead,
  markNotificationsRead,
  markReadInput,
  unreadNotificationCount,
} from "@/server/guardrails/notifications";
import {
  createWebhook,
  createWebhookInput,
  endpointInput,
  listDeliveries,
  listDeliveriesInput,
  listWebhooks,
  removeWebhook,
  retryDelivery,
  retryDeliveryInput,
  sendTestWebhook,
  updateWebhook,
  updateWebhookInput,
} from "@/server/guardrails/webhooks";
import { authedProcedure, router } from "../trpc";

// The signed-in person's notification inbox, and a project's outbound
// webhooks (admins). Each domain function checks who may do what.

const scope = z.object({ project: z.string().min(1).optional() });
const inProject = z.object({ project: z.string().min(1) });

export const notificationsRouter = router({
  list: authedProcedure
    .input(listNotificationsInput)
    .query(({ ctx, input }) => listNotifications(ctx.db, ctx.actor, input)),
  unreadCount: authedProcedure
    .input(scope)
    .query(({ ctx, input }) =>
      unreadNotificationCount(ctx.db, ctx.actor, input),
    ),
  markRead: authedProcedure
    .input(markReadInput)
    .mutation(({ ctx, input }) =>
      markNotificationsRead(ctx.db, ctx.actor, input),
    ),
  markAllRead: authedProcedure
    .input(scope)
    .mutation(({ ctx, input }) =>
      markAllNotificationsRead(ctx.db, ctx.actor, input),
    ),
  webhooks: router({
    list: authedProcedure
      .input(inProject)
      .query(({ ctx, input }) => listWebhooks(ctx.db, ctx.actor, input)),
    create: authedProcedure
      .input(createWebhookInput)
      .mutation(({ ctx, input }) => createWebhook(ctx.db, ctx.actor, input)),
    update: authedProcedure
      .input(updateWebhookInput)
      .mutation(({ ctx, input }) => updateWebhook(ctx.db, ctx.actor, input)),
    remove: authedProcedure
      .input(endpointInput)
      .mutation(({ ctx, input }) => removeWebhook(ctx.db, ctx.actor, input)),
    test: authedProcedure
      .input(endpointInput)
      .mutation(({ ctx, input }) => sendTestWebhook(ctx.db, ctx.actor, input)),
    deliveries: authedProcedure
      .input(listDeliveriesInput)
      .query(({ ctx, input }) => listDeliveries(ctx.db, ctx.actor, input)),
    retry: authedProcedure
      .input(retryDeliveryInput)
      .mutation(({ ctx, input }) => retryDelivery(ctx.db, ctx.actor, input)),
  }),
});
