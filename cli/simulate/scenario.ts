import crypto from "node:crypto";
import type { ClaudeCodeHookBody, SubmitPlanInput } from "@/client";
import type { Random } from "./random";

// What the simulated fleet says and does, as plain data: agent names, the
// goals and plans it makes, the questions it asks, the tool calls it
// reports and the spans it exports. Nothing here talks to a server, so the
// shapes can be checked without one. Everything carries a simulation label.

export const SIMULATION_TITLE_PREFIX = "Simulation:";
/** Marks hook bodies (kept as event attributes) and OTLP spans. */
export const SIMULATION_ATTRIBUTE = "flotilla.simulation";
export const AGENT_NAME_PREFIX = "sim-";
/** Every simulated task needs this tag and every simulated agent has it,
 * so real agents never claim simulated work; simulated scopes live under
 * this folder, so they never overlap real work either. */
export const SIMULATION_CAPABILITY = "simulation";
const SIMULATION_FOLDER = "simulation";

export interface AgentSpec {
  name: string;
  capabilities: string[];
}

// sim-1 can take anything; the others split the tagged work between them,
// and every fourth agent takes untagged work only.
const capabilitySets = [["db", "frontend"], ["frontend"], ["db"], []];

export function agentSpecs(count: number): AgentSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${AGENT_NAME_PREFIX}${i + 1}`,
    capabilities: [
      SIMULATION_CAPABILITY,
      ...capabilitySets[i % capabilitySets.length]!,
    ],
  }));
}

/** Names to try for an agent, in order: the name itself, then with a
 * suffix (sim-1-2, sim-1-3, ...) when an earlier run left it taken. */
export function candidateNames(name: string, tries = 50): string[] {
  return [
    name,
    ...Array.from({ length: tries - 1 }, (_, i) => `${name}-${i + 2}`),
  ];
}

export interface GoalSpec {
  role: "review" | "flow";
  title: string;
  description: string;
  requiresPlanApproval: boolean;
}

/** One goal whose plan waits for an operator, one whose work flows at
 * once. `runLabel` tells runs apart on the goals page. */
export function goalSpecs(runLabel: string): GoalSpec[] {
  const note =
    "Created by `flotilla simulate`: simulated agents, not real work. " +
    "Safe to mark done or delete.";

  return [
    {
      role: "review",
      title: `${SIMULATION_TITLE_PREFIX} checkout redesign (${runLabel})`,
      description: `${note} Its plan waits for your approval.`,
      requiresPlanApproval: true,
    },
    {
      role: "flow",
      title: `${SIMULATION_TITLE_PREFIX} orders API upkeep (${runLabel})`,
      description: `${note} Plans are approved at once, so work flows.`,
      requiresPlanApproval: false,
    },
  ];
}

interface TaskTemplate {
  key: string;
  title: string;
  scope: string[];
  capabilities?: string[];
  dependsOn?: string[];
}

// Scopes overlap on purpose (src/db/** covers src/db/orders.ts, the
// migrations sit under src/db/), so some claims wait for others.
const taskPool: TaskTemplate[] = [
  {
    key: "paginate",
    title: "Paginate GET /orders",
    scope: ["src/routes/orders.ts", "src/db/orders.ts"],
  },
  {
    key: "index",
    title: "Index orders by customer",
    scope: ["src/db/**"],
    capabilities: ["db"],
  },
  {
    key: "migrate",
    title: "Migrate the payments column",
    scope: ["src/db/migrations/**"],
    capabilities: ["db"],
  },
  {
    key: "table",
    title: "Orders table component",
    scope: ["web/components/orders/**"],
    capabilities: ["frontend"],
  },
  {
    key: "form",
    title: "Validate the checkout form",
    scope: ["web/components/checkout/**", "web/lib/validate.ts"],
    capabilities: ["frontend"],
  },
  {
    key: "docs",
    title: "Document pagination",
    scope: ["docs/api/orders.md"],
    dependsOn: ["paginate"],
  },
  {
    key: "tests",
    title: "Tests for order pagination",
    scope: ["tests/orders/**"],
    dependsOn: ["paginate"],
  },
  {
    key: "ratelimit",
    title: "Rate-limit checkout",
    scope: ["src/routes/checkout.ts"],
  },
  { key: "flaky", title: "Fix the flaky cart test", scope: ["tests/cart/**"] },
  {
    key: "readme",
    title: "Update the README setup steps",
    scope: ["README.md"],
  },
];

/** A plan of 4 to 7 tasks drawn from the pool; dependencies are kept only
 * when the task they name is in the same plan. */
export function planFor(
  random: Random,
  wave: number,
  note: string,
): SubmitPlanInput {
  const chosen = random.sample(taskPool, random.int(4, 7));
  const keys = new Set(chosen.map((task) => task.key));
  const suffix = wave > 1 ? ` (batch ${wave})` : "";

  return {
    note: `${SIMULATION_TITLE_PREFIX} ${note}`,
    tasks: chosen.map((task) => ({
      key: task.key,
      title: `${task.title}${suffix}`,
      description: `${SIMULATION_TITLE_PREFIX} a task made up by the simulated planner.`,
      scope: task.scope.map((glob) => `${SIMULATION_FOLDER}/${glob}`),
      capabilities: [SIMULATION_CAPABILITY, ...(task.capabilities ?? [])],
      dependsOn: (task.dependsOn ?? []).filter((key) => keys.has(key)),
      priority: random.int(0, 3),
      estimateUsd: Math.round(random.int(5, 60)) / 100,
    })),
  };
}

export const questions = [
  "How do we paginate API routes?",
  "Where are database migrations kept?",
  "How should the checkout form validate input?",
  "What is the release process?",
  "How do I run the tests locally?",
  "Which caching strategy do routes use?",
];

export const safeCommands = [
  "npm test -- --run orders",
  "git status --short",
  "npx tsc --noEmit",
  "git diff --stat",
];

/** A command a guardrail is expected to stop. */
export const riskyCommands = ["git push --force origin main", "rm -rf ./data"];

export const models = [
  "claude-sonnet-4-5",
  "claude-opus-4-1",
  "claude-haiku-4-5",
];

/** A concrete file inside a scope glob, for Read and Edit tool calls. */
export function fileIn(scope: string): string {
  return scope.replace(/\*\*$/, "index.ts").replace(/\*/g, "main");
}

const simulatedRepository = "/work/simulated-repo";

/** A Claude Code hook body for a simulated session, labelled. */
export function hookBody(
  sessionId: string,
  event: string,
  fields: Record<string, unknown> = {},
): ClaudeCodeHookBody {
  return {
    session_id: sessionId,
    transcript_path: `/tmp/flotilla-simulate/${sessionId}.jsonl`,
    cwd: simulatedRepository,
    permission_mode: "default",
    hook_event_name: event,
    [SIMULATION_ATTRIBUTE]: true,
    ...fields,
  };
}

/** Absolute path in the simulated repository, as Claude Code sends it. */
export function repositoryPath(file: string): string {
  return `${simulatedRepository}/${file}`;
}

function hexId(seed: string, length: number): string {
  return crypto
    .createHash("sha256")
    .update(seed)
    .digest("hex")
    .slice(0, length);
}

export interface UsageSpan {
  sessionId: string;
  agentName: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  startedAt: Date;
  durationMs: number;
  /** Makes the trace and span ids; unique within a run. */
  idSeed: string;
}

const text = (value: string) => ({ stringValue: value });
const integer = (value: number) => ({ intValue: String(value) });

/** One OTLP/HTTP JSON export with a GenAI chat span carrying token usage,
 * in the session of the simulated agent's hook events. */
export function usageExport(span: UsageSpan) {
  const startNs = BigInt(span.startedAt.getTime()) * 1_000_000n;
  const endNs = startNs + BigInt(span.durationMs) * 1_000_000n;

  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: text("flotilla-simulate") },
            { key: SIMULATION_ATTRIBUTE, value: { boolValue: true } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: "flotilla-simulate", version: "1" },
            spans: [
              {
                traceId: hexId(`${span.idSeed}:trace`, 32),
                spanId: hexId(`${span.idSeed}:span`, 16),
                name: `chat ${span.model}`,
                kind: 3,
                startTimeUnixNano: startNs.toString(),
                endTimeUnixNano: endNs.toString(),
                attributes: [
                  { key: "gen_ai.operation.name", value: text("chat") },
                  { key: "gen_ai.provider.name", value: text("anthropic") },
                  { key: "gen_ai.request.model", value: text(span.model) },
                  { key: "gen_ai.agent.name", value: text(span.agentName) },
                  {
                    key: "gen_ai.conversation.id",
                    value: text(span.sessionId),
                  },
                  {
                    key: "gen_ai.usage.input_tokens",
                    value: integer(span.inputTokens),
                  },
                  {
                    key: "gen_ai.usage.output_tokens",
                    value: integer(span.outputTokens),
                  },
                  { key: SIMULATION_ATTRIBUTE, value: { boolValue: true } },
                ],
                status: { code: 1 },
              },
            ],
          },
        ],
      },
    ],
  };
}
