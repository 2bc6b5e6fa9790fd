import { z } from "zod";
import {
  createAgentToken,
  createAgentTokenInput,
  listTokens,
  revokeToken,
  revokeTokenInput,
} from "@/server/identity/agent-tokens";
import {
  agentCapabilitiesInput,
  agentStatusInput,
  createAgent,
  createAgentInput,
  listAgents,
  pauseAgent,
  resumeAgent,
  setAgentCapabilities,
} from "@/server/identity/agents";
import { listAudit, listAuditInput } from "@/server/identity/audit";
import { projectOverview } from "@/server/identity/overview";
import {
  createPersonalToken,
  createPersonalTokenInput,
  listPersonalTokens,
  revokePersonalToken,
  revokePersonalTokenInput,
} from "@/server/identity/personal-tokens";
import {
  createProject,
  createProjectInput,
  listMembers,
  listProjects,
  setMemberRole,
  setMemberRoleInput,
} from "@/server/identity/projects";
import {
  needsSetup,
  setupFirstAdmin,
  setupInput,
} from "@/server/identity/users";
import {
  authedProcedure,
  projectProcedure,
  publicProcedure,
  router,
} from "../trpc";

// Identity for the console: setup status, who is signed in, projects,
// agents, tokens, members and the audit log. Each procedure calls one
// domain function, which checks the role it needs itself.

const inProject = z.object({ project: z.string().min(1) });

export const identityRouter = router({
  setupStatus: publicProcedure.query(async ({ ctx }) => ({
    needsSetup: await needsSetup(ctx.db),
  })),

  // The one-time first admin; refused with CONFLICT once anyone exists.
  setup: publicProcedure
    .input(setupInput)
    .mutation(({ ctx, input }) => setupFirstAdmin(ctx.db, input)),

  me: authedProcedure.query(({ ctx }) => ({
    userId: ctx.actor.userId,
    email: ctx.actor.email,
    role: ctx.actor.instanceRole,
  })),

  projects: router({
    list: authedProcedure.query(({ ctx }) => listProjects(ctx.db, ctx.actor)),
    create: authedProcedure
      .input(createProjectInput)
      .mutation(({ ctx, input }) => createProject(ctx.db, ctx.actor, input)),
    overview: projectProcedure("viewer").query(({ ctx, input }) =>
      projectOverview(ctx.db, ctx.actor, input),
    ),
  }),

  members: router({
    list: projectProcedure("viewer").query(({ ctx, input }) =>
      listMembers(ctx.db, ctx.actor, input),
    ),
    set: authedProcedure
      .input(setMemberRoleInput)
      .mutation(({ ctx, input }) => setMemberRole(ctx.db, ctx.actor, input)),
  }),

  agents: router({
    list: authedProcedure
      .input(inProject)
      .query(({ ctx, input }) => listAgents(ctx.db, ctx.actor, input)),
    create: authedProcedure
      .input(createAgentInput)
      .mutation(({ ctx, input }) => createAgent(ctx.db, ctx.actor, input)),
    pause: authedProcedure
      .input(agentStatusInput)
      .mutation(({ ctx, input }) => pauseAgent(ctx.db, ctx.actor, input)),
    resume: authedProcedure
      .input(agentStatusInput)
      .mutation(({ ctx, input }) => resumeAgent(ctx.db, ctx.actor, input)),
    /** Replaces the agent's capability tags (operators and admins). */
    setCapabilities: authedProcedure
      .input(agentCapabilitiesInput)
      .mutation(({ ctx, input }) =>
        setAgentCapabilities(ctx.db, ctx.actor, input),
      ),
  }),

  tokens: router({
    list: authedProcedure
      .input(inProject)
      .query(({ ctx, input }) => listTokens(ctx.db, ctx.actor, input)),
    create: authedProcedure
      .input(createAgentTokenInput)
      .mutation(({ ctx, input }) => createAgentToken(ctx.db, ctx.actor, input)),
    revoke: authedProcedure
      .input(revokeTokenInput)
      .mutation(({ ctx, input }) => revokeToken(ctx.db, ctx.actor, input)),
  }),

  personalTokens: router({
    list: authedProcedure.query(({ ctx }) =>
      listPersonalTokens(ctx.db, ctx.actor),
    ),
    create: authedProcedure
      .input(createPersonalTokenInput.omit({ email: true }))
      .mutation(({ ctx, input }) =>
        createPersonalToken(ctx.db, ctx.actor, input),
      ),
    revoke: authedProcedure
      .input(revokePersonalTokenInput)
      .mutation(({ ctx, input }) =>
        revokePersonalToken(ctx.db, ctx.actor, input),
      ),
  }),

  audit: router({
    list: authedProcedure
      .input(listAuditInput)
      .query(({ ctx, input }) => listAudit(ctx.db, ctx.actor, input)),
  }),
});
