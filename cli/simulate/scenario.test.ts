import { describe, expect, it } from "vitest";
import { submitPlanInput } from "@/server/orchestration/schemas";
import { seededRandom } from "./random";
import {
  agentSpecs,
  candidateNames,
  goalSpecs,
  hookBody,
  planFor,
  usageExport,
} from "./scenario";
import { emptySummary, formatSummary } from "./summary";

// The simulated fleet's choices and payloads, without a server.

const goalId = "00000000-0000-4000-8000-000000000001";

describe("simulation scenario", () => {
  it("makes the same plans from the same seed and other plans from another", () => {
    const plans = (seed: number) => {
      const random = seededRandom(seed);

      return [1, 2, 3].map((wave) => planFor(random, wave, "batch"));
    };
    expect(plans(42)).toEqual(plans(42));
    expect(plans(42)).not.toEqual(plans(43));
  });

  it("plans tasks the server accepts, labelled, some needing capabilities", () => {
    const random = seededRandom(1);
    const waves = Array.from({ length: 20 }, (_, i) =>
      planFor(random, i + 1, "batch"),
    );
    for (const plan of waves) {
      const parsed = submitPlanInput.safeParse({ ...plan, goalId });
      expect(parsed.error).toBeUndefined();
      expect(plan.note).toMatch(/^Simulation:/);
      const keys = new Set(plan.tasks.map((task) => task.key));
      for (const task of plan.tasks) {
        expect(task.dependsOn?.every((key) => keys.has(key))).toBe(true);
      }
    }
    const tasks = waves.flatMap((plan) => plan.tasks);
    // Only simulated agents take simulated work, inside its own folder, so
    // a project's real agents and real scopes are never in its way.
    for (const task of tasks) {
      expect(task.capabilities).toContain("simulation");
      expect(task.scope.every((glob) => glob.startsWith("simulation/"))).toBe(
        true,
      );
    }
    expect(tasks.some((task) => (task.capabilities ?? []).length > 1)).toBe(
      true,
    );
    expect(
      tasks.some((task) => task.scope.includes("simulation/src/db/**")),
    ).toBe(true);
    expect(
      tasks.some((task) => task.scope.includes("simulation/src/db/orders.ts")),
    ).toBe(true);
  });

  it("names agents sim-N, can suffix a taken name, and labels goals", () => {
    expect(agentSpecs(3).map((agent) => agent.name)).toEqual([
      "sim-1",
      "sim-2",
      "sim-3",
    ]);
    expect(agentSpecs(1)[0].capabilities).toEqual([
      "simulation",
      "db",
      "frontend",
    ]);
    expect(candidateNames("sim-2").slice(0, 3)).toEqual([
      "sim-2",
      "sim-2-2",
      "sim-2-3",
    ]);
    const goals = goalSpecs("seed 1");
    expect(goals.map((goal) => goal.requiresPlanApproval)).toEqual([
      true,
      false,
    ]);
    expect(goals.every((goal) => goal.title.startsWith("Simulation:"))).toBe(
      true,
    );
  });

  it("marks hook bodies and spans as a simulation", () => {
    expect(hookBody("s-1", "Stop")).toMatchObject({
      session_id: "s-1",
      hook_event_name: "Stop",
      "flotilla.simulation": true,
    });
    const exported = usageExport({
      sessionId: "s-1",
      agentName: "sim-1",
      model: "claude-sonnet-4-5",
      inputTokens: 1200,
      outputTokens: 80,
      startedAt: new Date("2026-12-01T10:00:00Z"),
      durationMs: 1500,
      idSeed: "s-1",
    });
    const span = exported.resourceSpans[0].scopeSpans[0].spans[0];
    const attributes = Object.fromEntries(
      span.attributes.map((a) => [a.key, Object.values(a.value)[0]]),
    );
    expect(attributes).toMatchObject({
      "gen_ai.request.model": "claude-sonnet-4-5",
      "gen_ai.usage.input_tokens": "1200",
      "gen_ai.usage.output_tokens": "80",
      "gen_ai.conversation.id": "s-1",
      "flotilla.simulation": true,
    });
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)).toBe(
      1_500_000_000n,
    );
  });

  it("says it was a simulation and how to see a denial when none happened", () => {
    const text = formatSummary(emptySummary("shop", 3));
    expect(text).toMatch(/^Simulation summary for project shop \(seed 3/);
    expect(text).toContain('"git push --force"');
  });
});
