// What a simulation did, counted as it runs and printed at the end (as
// text, or as JSON with --json).

export interface SimulationSummary {
  /** Always true: the summary of a simulation, not of real work. */
  simulation: true;
  project: string;
  seed: number;
  agents: string[];
  goals: { id: string; title: string; requiresPlanApproval: boolean }[];
  /** approved: at once (no approval needed); reviewed: an operator
   * decided while the simulation ran. */
  plans: {
    submitted: number;
    waiting: number;
    approved: number;
    reviewed: number;
  };
  tasks: {
    claimed: number;
    completed: number;
    failed: number;
    released: number;
    heartbeats: number;
    /** Claims that found ready tasks but none this agent could take. */
    skipped: number;
  };
  context: { asked: number; answered: number };
  events: { hooks: number; spans: number };
  tokens: { input: number; output: number };
  guardrails: { denied: number; asked: number };
  /** Spend the console priced for this run's agents; null if unreadable. */
  spendUsd: number | null;
  errors: number;
  durationMs: number;
  interrupted: boolean;
}

export function emptySummary(project: string, seed: number): SimulationSummary {
  return {
    simulation: true,
    project,
    seed,
    agents: [],
    goals: [],
    plans: { submitted: 0, waiting: 0, approved: 0, reviewed: 0 },
    tasks: {
      claimed: 0,
      completed: 0,
      failed: 0,
      released: 0,
      heartbeats: 0,
      skipped: 0,
    },
    context: { asked: 0, answered: 0 },
    events: { hooks: 0, spans: 0 },
    tokens: { input: 0, output: 0 },
    guardrails: { denied: 0, asked: 0 },
    spendUsd: null,
    errors: 0,
    durationMs: 0,
    interrupted: false,
  };
}

export function formatSummary(summary: SimulationSummary): string {
  const { tasks, plans, context, events, guardrails, tokens } = summary;
  const spend =
    summary.spendUsd === null ? "unknown" : `$${summary.spendUsd.toFixed(4)}`;
  const lines = [
    `Simulation summary for project ${summary.project} (seed ${summary.seed}, ` +
      `${(summary.durationMs / 1000).toFixed(1)} s` +
      `${summary.interrupted ? ", stopped early" : ""})`,
    `  simulated agents  ${summary.agents.join(", ")}`,
    ...summary.goals.map(
      (goal) =>
        `  goal              ${goal.title}` +
        (goal.requiresPlanApproval ? " [plans need approval]" : ""),
    ),
    `  plans             ${plans.submitted} submitted, ${plans.approved} ` +
      `approved at once, ${plans.reviewed} reviewed by an operator, ` +
      `${plans.waiting} waiting for approval`,
    `  tasks             ${tasks.claimed} claimed, ${tasks.completed} ` +
      `completed, ${tasks.failed} failed, ${tasks.released} released`,
    `  context           ${context.asked} questions, ${context.answered} answered`,
    `  events            ${events.hooks} hook events, ${events.spans} spans, ` +
      `${tokens.input + tokens.output} tokens, spend ${spend}`,
    `  guardrails        ${guardrails.denied} denied, ${guardrails.asked} asked`,
    `  errors            ${summary.errors}`,
  ];
  if (guardrails.denied === 0) {
    lines.push(
      "  No guardrail denied anything: add a deny rule for Bash commands " +
        'matching "git push --force" on the guardrails page to see one.',
    );
  }
  if (plans.waiting > 0) {
    lines.push(
      "  A simulated plan is waiting on its goal page: approve it while a " +
        "simulation runs and the simulated agents take its tasks.",
    );
  }

  return lines.join("\n");
}
