import crypto from "node:crypto";
import {
  FlotillaApiError,
  FlotillaClient,
  type ClaimResult,
  type ClaudeCodeHookBody,
} from "@/client";
import { agentSeed, seededRandom, type Random } from "./random";
import {
  agentSpecs,
  candidateNames,
  fileIn,
  goalSpecs,
  hookBody,
  models,
  planFor,
  questions,
  repositoryPath,
  riskyCommands,
  safeCommands,
  usageExport,
  type AgentSpec,
} from "./scenario";
import { emptySummary, type SimulationSummary } from "./summary";

// Runs a fleet of simulated agents against a running console, over HTTP
// only (the console may hold an embedded database no one else may open).
// A personal token creates the agents and goals; each agent then works
// with its own agent token, as a real one would.

export interface SimulationOptions {
  url: string;
  /** A personal access token of a project admin. */
  token: string;
  project: string;
  agents: number;
  durationMs: number;
  seed: number;
  /** Mean pause between an agent's steps. */
  paceMs?: number;
  /** Stops the run early (Ctrl-C); held tasks are released. */
  signal?: AbortSignal;
  /** One line per notable action. */
  log?: (line: string) => void;
  fetch?: typeof fetch;
}

interface SimAgent {
  spec: AgentSpec;
  name: string;
  client: FlotillaClient;
  random: Random;
  held: ClaimResult[];
  /** sim-1 tries a forbidden command in its first session, so a guardrail
   * (if one is set) shows up early; later sessions only now and then. */
  riskyDue: boolean;
}

interface Run {
  options: Required<Omit<SimulationOptions, "signal" | "fetch">> &
    Pick<SimulationOptions, "signal" | "fetch">;
  summary: SimulationSummary;
  /** Distinguishes this run's session and span ids from earlier runs with
   * the same seed (ingest ignores an event id it has seen). */
  runId: string;
  startedMs: number;
  deadlineMs: number;
  flowGoalId: string;
  reviewGoalId: string;
  /** The plan waiting for an operator, until the planner hears of a
   * decision on it. */
  reviewPlanId: string;
  waves: number;
  counter: number;
}

function stopped(run: Run): boolean {
  return run.options.signal?.aborted === true || Date.now() >= run.deadlineMs;
}

function say(run: Run, who: string, message: string) {
  const seconds = ((Date.now() - run.startedMs) / 1000).toFixed(1);
  run.options.log(`[sim +${seconds.padStart(5)}s] ${who.padEnd(8)} ${message}`);
}

/** Waits about `paceMs` (scaled), returning early when the run stops. */
function pause(run: Run, random: Random, scale = 1): Promise<void> {
  const ms = run.options.paceMs * scale * (0.5 + random.next());
  const left = run.deadlineMs - Date.now();

  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      run.options.signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, Math.min(ms, left)));
    run.options.signal?.addEventListener("abort", done, { once: true });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Creates the agent under its name, or the first free suffixed name when
 * an earlier run already made one (see candidateNames). */
async function createAgent(
  person: FlotillaClient,
  run: Run,
  spec: AgentSpec,
  number: number,
): Promise<SimAgent> {
  for (const name of candidateNames(spec.name)) {
    try {
      const created = await person.createAgent(run.options.project, {
        name,
        capabilities: spec.capabilities,
      });
      run.summary.agents.push(name);
      const caps = spec.capabilities.join(", ") || "no capability tags";
      say(run, name, `simulated agent created (${caps})`);

      return {
        spec,
        name,
        client: new FlotillaClient({
          url: run.options.url,
          token: created.secret,
          fetch: run.options.fetch,
        }),
        random: seededRandom(agentSeed(run.options.seed, number)),
        held: [],
        riskyDue: number === 1,
      };
    } catch (error) {
      if (error instanceof FlotillaApiError && error.code === "conflict") {
        continue;
      }
      throw error;
    }
  }
  throw new Error(`Every name from ${spec.name} to ${spec.name}-50 is taken`);
}

async function setUp(run: Run): Promise<SimAgent[]> {
  const { options } = run;
  const person = new FlotillaClient({
    url: options.url,
    token: options.token,
    fetch: options.fetch,
  });
  const agents: SimAgent[] = [];
  for (const [i, spec] of agentSpecs(options.agents).entries()) {
    agents.push(await createAgent(person, run, spec, i + 1));
  }

  const label = `seed ${options.seed}, ${new Date().toISOString().slice(0, 16)}Z`;
  const planner = agents[0];
  for (const spec of goalSpecs(label)) {
    const { goal } = await person.createGoal(options.project, {
      title: spec.title,
      description: spec.description,
      requiresPlanApproval: spec.requiresPlanApproval,
    });
    run.summary.goals.push({
      id: goal.id,
      title: goal.title,
      requiresPlanApproval: goal.requiresPlanApproval,
    });
    say(run, "console", `goal created: ${goal.title}`);
    if (spec.role === "flow") run.flowGoalId = goal.id;
    else run.reviewGoalId = goal.id;
    await submitPlan(run, planner, goal.id, spec.role === "review" ? 0 : 1);
  }

  return agents;
}

async function submitPlan(
  run: Run,
  planner: SimAgent,
  goalId: string,
  wave: number,
) {
  const note =
    wave === 0
      ? "a plan for an operator to review"
      : `batch ${wave} of the upkeep work`;
  const plan = await planner.client.submitPlan(
    goalId,
    planFor(planner.random, Math.max(wave, 1), note),
  );
  run.summary.plans.submitted += 1;
  if (plan.status === "submitted") {
    run.summary.plans.waiting += 1;
    run.reviewPlanId = plan.id;
    say(
      run,
      planner.name,
      `plan of ${plan.taskCount} tasks is waiting for approval in the console`,
    );
  } else {
    run.summary.plans.approved += 1;
    say(
      run,
      planner.name,
      `plan of ${plan.taskCount} tasks approved at once; tasks are ready`,
    );
  }
}

/** An operator decided on the plan that was waiting for approval. */
function noteReview(run: Run, agent: SimAgent, planId: string, status: string) {
  if (planId !== run.reviewPlanId || status === "submitted") return;
  run.reviewPlanId = "";
  run.summary.plans.waiting -= 1;
  run.summary.plans.reviewed += 1;
  say(
    run,
    agent.name,
    `heard the plan waiting for approval was ${status.replace("_", " ")}`,
  );
}

/** The planner adds a batch of work when the flowing goal runs dry. */
async function topUp(run: Run, planner: SimAgent) {
  const { goals } = await planner.client.goals({ status: "active" });
  const flow = goals.find((goal) => goal.id === run.flowGoalId);
  if (!flow) return;
  const counts = flow.taskCounts;
  const open =
    counts.ready + counts.claimed + counts.in_progress + counts.blocked;
  if (open > 0) return;
  run.waves += 1;
  await submitPlan(run, planner, flow.id, run.waves);
}

/** Claims from this run's goals only, so the simulated agents never take
 * a real task of the project: the reviewed goal first (it has tasks once
 * an operator approves its plan), then the flowing one. */
async function claim(run: Run, agent: SimAgent) {
  const count = agent.random.chance(0.3) ? 2 : 1;
  const reviewed = await agent.client.claimMany({
    count,
    goalId: run.reviewGoalId,
    ttlSeconds: 60,
  });
  const result =
    reviewed.claimed.length > 0
      ? reviewed
      : await agent.client.claimMany({
          count,
          goalId: run.flowGoalId,
          ttlSeconds: 60,
        });
  for (const answer of new Set([reviewed, result])) {
    for (const plan of answer.notices?.plans ?? []) {
      noteReview(run, agent, plan.id, plan.status);
    }
  }
  for (const claimed of result.claimed) {
    agent.held.push(claimed);
    run.summary.tasks.claimed += 1;
    say(run, agent.name, `claimed "${claimed.task.title}"`);
  }
  if (result.claimed.length === 0 && result.skipped.length > 0) {
    const first = result.skipped[0];
    run.summary.tasks.skipped += 1;
    if (agent.random.chance(0.3)) {
      say(run, agent.name, `waits: "${first.title}": ${first.message}`);
    }
  }

  return result.claimed.length > 0;
}

async function hook(run: Run, agent: SimAgent, body: ClaudeCodeHookBody) {
  const answer = await agent.client.claudeCodeHook(body);
  run.summary.events.hooks += 1;
  if (!("hookSpecificOutput" in answer)) return "allow";
  const { permissionDecision, permissionDecisionReason } =
    answer.hookSpecificOutput;
  if (permissionDecision === "deny") {
    run.summary.guardrails.denied += 1;
    say(
      run,
      agent.name,
      `guardrail denied ${String(body.tool_name)}: ${permissionDecisionReason ?? ""}`,
    );
  } else if (permissionDecision === "ask") {
    run.summary.guardrails.asked += 1;
    say(
      run,
      agent.name,
      `guardrail asks a person about ${String(body.tool_name)}`,
    );
  }

  return permissionDecision;
}

/** One tool call as Claude Code reports it: PreToolUse, then PostToolUse
 * unless a guardrail said no. */
async function toolCall(
  run: Run,
  agent: SimAgent,
  sessionId: string,
  tool: string,
  input: Record<string, unknown>,
  response: unknown,
) {
  run.counter += 1;
  const toolUseId = `toolu_sim_${run.runId}_${run.counter}`;
  const fields = { tool_name: tool, tool_input: input, tool_use_id: toolUseId };
  const decision = await hook(
    run,
    agent,
    hookBody(sessionId, "PreToolUse", fields),
  );
  if (decision !== "allow") return decision;
  await hook(
    run,
    agent,
    hookBody(sessionId, "PostToolUse", { ...fields, tool_response: response }),
  );

  return decision;
}

/** A Claude Code-shaped session on one held task, ending in complete or
 * (now and then) fail. */
async function work(run: Run, agent: SimAgent, claimed: ClaimResult) {
  const { task, lease } = claimed;
  const random = agent.random;
  // When the run ends mid-task, the task goes back to be released.
  const halted = () => {
    if (!stopped(run)) return false;
    agent.held.unshift(claimed);

    return true;
  };
  run.counter += 1;
  const sessionId = `sim-${run.runId}-${agent.name}-${run.counter}`;
  const model = random.pick(models);
  const file = fileIn(random.pick(task.scope.length ? task.scope : ["src/**"]));

  await hook(
    run,
    agent,
    hookBody(sessionId, "SessionStart", { source: "startup", model }),
  );
  await hook(
    run,
    agent,
    hookBody(sessionId, "UserPromptSubmit", {
      prompt: `Simulation: ${task.title}`,
    }),
  );
  await pause(run, random);
  if (halted()) return;

  const question = random.pick(questions);
  const answer = await agent.client.context(question);
  run.summary.context.asked += 1;
  if (answer.answered) {
    run.summary.context.answered += 1;
    say(
      run,
      agent.name,
      `asked "${question}": answered from ${answer.documentTitle}`,
    );
  } else {
    say(run, agent.name, `asked "${question}": no answer in the docs`);
  }

  await toolCall(
    run,
    agent,
    sessionId,
    "Read",
    { file_path: repositoryPath(file) },
    {
      type: "text",
      file: { filePath: repositoryPath(file), numLines: random.int(20, 400) },
    },
  );
  for (const held of agent.held.concat(claimed)) {
    const renewed = await agent.client.heartbeat(held.task.id, {
      leaseId: held.lease.id,
      ttlSeconds: 60,
    });
    for (const plan of renewed.notices?.plans ?? []) {
      noteReview(run, agent, plan.id, plan.status);
    }
  }
  run.summary.tasks.heartbeats += 1;
  await pause(run, random);
  if (halted()) return;

  await toolCall(
    run,
    agent,
    sessionId,
    "Edit",
    {
      file_path: repositoryPath(file),
      old_string: "// TODO",
      new_string: "// simulated change",
    },
    { filePath: repositoryPath(file) },
  );
  const command = agent.riskyDue
    ? riskyCommands[0]
    : random.chance(0.2)
      ? random.pick(riskyCommands)
      : random.pick(safeCommands);
  agent.riskyDue = false;
  await toolCall(
    run,
    agent,
    sessionId,
    "Bash",
    { command },
    {
      stdout: "simulated output",
      stderr: "",
      interrupted: false,
    },
  );
  await pause(run, random);
  if (halted()) return;

  const inputTokens = random.int(2_000, 40_000);
  const outputTokens = random.int(200, 4_000);
  await agent.client.exportSpans(
    usageExport({
      sessionId,
      agentName: agent.name,
      model,
      inputTokens,
      outputTokens,
      startedAt: new Date(Date.now() - 2_000),
      durationMs: random.int(800, 6_000),
      idSeed: sessionId,
    }),
  );
  run.summary.events.spans += 1;
  run.summary.tokens.input += inputTokens;
  run.summary.tokens.output += outputTokens;

  const fails = random.chance(0.12);
  await hook(
    run,
    agent,
    hookBody(sessionId, "Stop", {
      stop_hook_active: false,
      last_assistant_message: fails
        ? "Simulation: the tests still fail; giving up on this task."
        : `Simulation: finished "${task.title}".`,
    }),
  );
  if (halted()) return;
  if (fails) {
    await agent.client.fail(task.id, {
      leaseId: lease.id,
      reason: "Simulation: the tests still fail after three attempts",
    });
    run.summary.tasks.failed += 1;
    say(run, agent.name, `failed "${task.title}"`);
  } else {
    await agent.client.complete(task.id, {
      leaseId: lease.id,
      result: "Simulation: done (no real change was made)",
    });
    run.summary.tasks.completed += 1;
    say(run, agent.name, `completed "${task.title}"`);
  }
}

/** What the agent does when a call is refused or the server fails: the
 * task whose lease is gone is dropped, and the agent waits a little. */
async function recover(run: Run, agent: SimAgent, error: unknown) {
  run.summary.errors += 1;
  say(run, agent.name, `error: ${describe(error)}`);
  await pause(run, agent.random, 3);
}

async function agentLoop(run: Run, agent: SimAgent, planner: boolean) {
  while (!stopped(run)) {
    const next = agent.held.shift();
    try {
      if (next) {
        await work(run, agent, next);
      } else if (!(await claim(run, agent))) {
        if (planner) await topUp(run, agent);
        await pause(run, agent.random, 2);
        continue;
      }
    } catch (error) {
      await recover(run, agent, error);
    }
    await pause(run, agent.random);
  }
  await release(run, agent);
}

/** Gives back every task the agent still holds. */
async function release(run: Run, agent: SimAgent) {
  for (const held of agent.held.splice(0)) {
    try {
      await agent.client.release(held.task.id, { leaseId: held.lease.id });
      run.summary.tasks.released += 1;
      say(run, agent.name, `released "${held.task.title}"`);
    } catch (error) {
      run.summary.errors += 1;
      say(run, agent.name, `could not release: ${describe(error)}`);
    }
  }
}

/** Sums the spend the console priced for this run's agents. */
async function pricedSpend(run: Run): Promise<number | null> {
  const person = new FlotillaClient({
    url: run.options.url,
    token: run.options.token,
    fetch: run.options.fetch,
  });
  try {
    const report = await person.spend(run.options.project, {
      groupBy: "agent",
      from: new Date(run.startedMs - 60_000).toISOString(),
    });
    const ours = new Set(run.summary.agents);

    return report.rows
      .filter((row) => row.agent && ours.has(row.agent))
      .reduce((sum, row) => sum + (row.costUsd ?? 0), 0);
  } catch {
    return null;
  }
}

export async function runSimulation(
  options: SimulationOptions,
): Promise<SimulationSummary> {
  const startedMs = Date.now();
  const run: Run = {
    options: {
      paceMs: 1_200,
      log: () => {},
      ...options,
    },
    summary: emptySummary(options.project, options.seed),
    runId: crypto.randomBytes(4).toString("hex"),
    startedMs,
    deadlineMs: startedMs + options.durationMs,
    flowGoalId: "",
    reviewGoalId: "",
    reviewPlanId: "",
    waves: 1,
    counter: 0,
  };
  const agents = await setUp(run);
  await Promise.all(agents.map((agent, i) => agentLoop(run, agent, i === 0)));
  if (run.reviewPlanId) {
    // A decision the planner did not hear of before the run ended.
    const plan = await agents[0].client
      .plan(run.reviewPlanId)
      .catch(() => null);
    if (plan) noteReview(run, agents[0], plan.id, plan.status);
  }
  run.summary.spendUsd = await pricedSpend(run);
  run.summary.durationMs = Date.now() - startedMs;
  run.summary.interrupted = options.signal?.aborted === true;

  return run.summary;
}
