import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { DomainError } from "@/server/errors";
import { claimTasks, createGoal, createTask } from "@/server/orchestration";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";
import { pauseProject, resumeProject } from "./kill-switch";
import { evaluate } from "./policy";

// The kill switch's promise: within one second of an operator pausing the
// project, every claim and every tool decision in it is refused with the
// reason. A small fleet keeps claiming and asking for tool decisions in a
// loop while the project is paused under it; the time from the pause's
// commit to each agent's first refusal of each kind is measured on the
// monotonic clock.

interface Call {
  kind: "claim" | "tool";
  startedMs: number;
  endedMs: number;
  refused: string | null;
}

const FLEET = 4;
const reason = "incident 7: stop everything";

describe.each(testKinds)("kill switch latency on %s", (kind) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openTestDatabase(kind);
  });
  afterAll(() => handle.close());

  it("refuses every claim and tool decision within a second of the pause", async () => {
    const db = handle.db;
    const project = await makeProject(db);
    const operator = await makeUser(db, "operator");
    const goal = await createGoal(db, operator.actor, {
      project: project.slug,
      title: "Fleet work",
    });
    const fleet: Awaited<ReturnType<typeof makeAgent>>[] = [];
    for (let i = 0; i < FLEET; i += 1) {
      fleet.push(await makeAgent(db, project.id, `agent-${i}`));
      await createTask(db, operator.actor, {
        goalId: goal.id,
        title: `task ${i}`,
        scope: [`part-${i}/**`],
      });
    }

    const calls: Call[][] = fleet.map(() => []);
    const failures: unknown[] = [];
    let stop = false;
    const record = async (
      log: Call[],
      callKind: Call["kind"],
      work: () => Promise<string | null>,
    ) => {
      const startedMs = performance.now();
      const refused = await work();
      log.push({
        kind: callKind,
        startedMs,
        endedMs: performance.now(),
        refused,
      });
    };
    const loops = fleet.map(async (agent, index) => {
      const log = calls[index];
      while (!stop && failures.length === 0) {
        // Embedded PGlite can answer without leaving the microtask queue;
        // yielding lets the test's own timers and the other agents run.
        await new Promise((resolve) => setImmediate(resolve));
        await Promise.resolve()
          .then(() => step(agent, log))
          .catch((error: unknown) => failures.push(error));
      }
    });
    // One round of an agent's work: a claim, then a tool decision.
    async function step(agent: (typeof fleet)[number], log: Call[]) {
      await record(log, "claim", async () => {
        try {
          await claimTasks(db, agent.actor, {});

          return null;
        } catch (error) {
          if (error instanceof DomainError && error.status === 403) {
            return error.message;
          }
          throw error;
        }
      });
      await record(log, "tool", async () => {
        const decision = await evaluate(db, {
          projectId: project.id,
          agentId: agent.agent.id,
          toolUse: { toolName: "Bash", toolInput: { command: "ls" } },
        });

        return decision.decision === "deny" ? decision.reason : null;
      });
    }

    // The fleet is running: every agent has been answered both ways.
    const running = () =>
      calls.every(
        (log) =>
          log.some((c) => c.kind === "claim" && !c.refused) &&
          log.some((c) => c.kind === "tool" && !c.refused),
      );
    const settle = async (done: () => boolean) => {
      const deadline = performance.now() + 20_000;
      while (!done() && failures.length === 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(failures).toEqual([]);
    };
    await settle(running);

    const pauseAskedMs = performance.now();
    await pauseProject(db, operator.actor, { project: project.slug, reason });
    // The pause has committed by the time pauseProject returns.
    const committedMs = performance.now();

    // Let each agent make a few calls after the pause, then stop.
    const seenAfter = () =>
      calls.every(
        (log) =>
          log.filter((c) => c.startedMs > committedMs && c.kind === "claim")
            .length >= 2 &&
          log.filter((c) => c.startedMs > committedMs && c.kind === "tool")
            .length >= 2,
      );
    await settle(seenAfter);
    stop = true;
    await Promise.all(loops);

    const expected = `The project is paused by an operator: ${reason}`;
    const latencies: number[] = [];
    calls.forEach((log, index) => {
      for (const callKind of ["claim", "tool"] as const) {
        const after = log.filter(
          (c) => c.kind === callKind && c.startedMs > committedMs,
        );
        // Every call that began after the commit was refused, with the
        // reason the operator gave.
        expect(after.length, `agent-${index} ${callKind}s`).toBeGreaterThan(0);
        expect(after.map((c) => c.refused)).toEqual(after.map(() => expected));
        // The first refusal came within a second of the commit (it may
        // even precede it: a call that read the pause while it committed).
        const first = log.find(
          (c) => c.kind === callKind && c.refused && c.endedMs >= pauseAskedMs,
        );
        expect(first, `agent-${index} refused ${callKind}`).toBeDefined();
        latencies.push((first?.endedMs ?? Infinity) - committedMs);
      }
    });
    expect(Math.max(...latencies)).toBeLessThan(1000);

    // Resuming lets the next calls through again.
    await resumeProject(db, operator.actor, { project: project.slug });
    const again = await evaluate(db, {
      projectId: project.id,
      agentId: fleet[0].agent.id,
      toolUse: { toolName: "Bash", toolInput: { command: "ls" } },
    });
    expect(again.decision).toBe("allow");
    await expect(claimTasks(db, fleet[0].actor, {})).resolves.toBeDefined();
  }, 60_000);
});
