import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { evaluate } from "@/server/guardrails/policy";
import { addRule } from "@/server/guardrails/rules";
import { percentile } from "@/server/observability/bench";
import { receiveClaudeCodeHook } from "@/server/observability/hooks";
import { newId } from "@/server/runtime";
import { openTestDatabase } from "@/tests/db";
import { makeAgent, makeProject, makeUser } from "@/tests/fixtures";

// npx tsx bench/pretooluse.ts [--calls N]: times the PreToolUse decision
// in-process over N calls (default 1,000) with 20 rules in place, and prints
// JSON with p50/p95/p99 in milliseconds, for two paths:
// - policy: the policy's evaluate() alone (kill switch, agent, rules);
// - hook: the whole hook body handler (parse, decide, store the event).
// Uses in-memory PGlite, or a scratch PostgreSQL database when
// TEST_DATABASE_URL points at a local server.

const callsFlag = process.argv.indexOf("--calls");
const calls =
  callsFlag > 0 ? Number(process.argv[callsFlag + 1] ?? "1000") : 1000;

const bodies = fs
  .readFileSync(
    path.resolve(
      process.cwd(),
      "..",
      "shared",
      "cases",
      "hooks",
      "session-basic.jsonl",
    ),
    "utf8",
  )
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as Record<string, unknown>)
  .filter((body) => body.hook_event_name === "PreToolUse");

function summary(samples: number[]) {
  const round = (value: number) => Math.round(value * 1000) / 1000;

  return {
    calls: samples.length,
    p50Ms: round(percentile(samples, 50)),
    p95Ms: round(percentile(samples, 95)),
    p99Ms: round(percentile(samples, 99)),
    maxMs: round(Math.max(...samples)),
  };
}

async function main() {
  const kind = process.env.TEST_DATABASE_URL ? "postgres" : "pglite";
  const handle = await openTestDatabase(kind);
  const db = handle.db;
  try {
    const project = await makeProject(db);
    const { actor } = await makeAgent(db, project.id, "bench");
    const admin = await makeUser(db, "admin");
    for (let i = 0; i < 10; i += 1) {
      await addRule(db, admin.actor, {
        project: project.slug,
        scope: "project",
        kind: "command",
        tool: "Bash",
        pattern: `forbidden-${i} --flag`,
        decision: i % 2 === 0 ? "deny" : "ask",
      });
      await addRule(db, admin.actor, {
        project: project.slug,
        scope: i % 2 === 0 ? "project" : "agent",
        agent: i % 2 === 0 ? undefined : "bench",
        kind: "path",
        tool: "*",
        pattern: `protected-${i}/**`,
        decision: "ask",
      });
    }

    // Warm up the driver and the regex cache before timing.
    for (let i = 0; i < 50; i += 1) {
      await evaluate(db, {
        projectId: project.id,
        agentId: actor.agentId,
        toolUse: { toolName: "Read", toolInput: { file_path: "/x" } },
      });
    }

    const policy: number[] = [];
    for (let i = 0; i < calls; i += 1) {
      const body = bodies[i % bodies.length];
      const started = performance.now();
      await evaluate(db, {
        projectId: project.id,
        agentId: actor.agentId,
        toolUse: {
          toolName: String(body.tool_name),
          toolInput: body.tool_input,
        },
      });
      policy.push(performance.now() - started);
    }

    const hook: number[] = [];
    const session = newId();
    for (let i = 0; i < calls; i += 1) {
      const body = {
        ...bodies[i % bodies.length],
        session_id: session,
        tool_use_id: `bench-${i}`,
      };
      const started = performance.now();
      await receiveClaudeCodeHook(db, actor, body);
      hook.push(performance.now() - started);
    }

    console.log(
      JSON.stringify(
        {
          database: kind,
          rules: 20,
          targetP95Ms: 100,
          policy: summary(policy),
          hook: summary(hook),
        },
        null,
        2,
      ),
    );
  } finally {
    await handle.close();
  }
}

await main();
