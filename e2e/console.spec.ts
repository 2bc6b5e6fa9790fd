import {
  expect,
  test,
  type APIRequestContext,
  type Page,
} from "@playwright/test";
import { transcriptUsageEvents } from "@/server/observability/normalize/claude-code-transcript";
import { corpusDir, jsonFile, jsonLines } from "./cases";
import { openHydrated } from "./support";

// One operator and one agent run the whole foundation workflow through the
// real console and the real agent API, on a fresh embedded database.

test.describe.configure({ mode: "serial" });

const admin = { email: "ops@flotilla.test", password: "correct horse battery" };
const project = "shop";
let page: Page;
let agentToken = "";

function agent(request: APIRequestContext) {
  const headers = { authorization: `Bearer ${agentToken}` };

  return {
    post: (url: string, data?: unknown) =>
      request.post(url, { headers, data: data ?? {} }),
    get: (url: string, params?: Record<string, string>) =>
      request.get(url, { headers, params }),
  };
}

async function createGoal(title: string, budget: string) {
  await openHydrated(page, `/projects/${project}/goals`);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel(/^Budget in USD/).fill(budget);
  await page.getByRole("button", { name: "Create goal" }).click();
  const row = page.getByRole("row", { name: `Goal ${title}` });
  await expect(row).toBeVisible();
  await row.getByRole("link", { name: title }).click();
  await expect(
    page.getByRole("heading", { level: 1, name: title }),
  ).toBeVisible();

  return page.url();
}

async function addTask(title: string, priority: string, scope: string) {
  const form = page.getByRole("form", { name: "New task" });
  await form.getByLabel("Task title").fill(title);
  await form.getByLabel("Priority").fill(priority);
  await form.getByLabel("Scope (path globs, one per line)").fill(scope);
  await form.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByRole("row", { name: `Task ${title}` })).toBeVisible();
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
});

test.afterAll(async () => {
  await page.close();
});

test("a fresh install offers the one-time admin setup", async () => {
  await openHydrated(page, "/");
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel("Name").fill("Ops");
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Create admin" }).click();
  await expect(page).toHaveURL(/\/projects$/);

  // Once an admin exists the setup page is gone.
  await openHydrated(page, "/setup");
  await expect(page).toHaveURL(/\/projects$/);
});

test("the operator signs in and creates a project", async () => {
  await page.context().clearCookies();
  await openHydrated(page, "/setup");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Wrong email or password")).toBeVisible();
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/projects$/);

  await page.getByLabel("Slug").fill(project);
  await page.getByLabel("Name").fill("Shop API");
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page).toHaveURL(new RegExp(`/projects/${project}$`));
});

test("the operator creates a goal with tasks and an agent token", async () => {
  await createGoal("Paginate orders", "50");
  await addTask("Add limit and offset", "5", "src/routes/orders.ts");
  await addTask("Document pagination", "1", "docs/api/**");

  await openHydrated(page, `/projects/${project}/agents`);
  await page.getByLabel("Agent name").fill("builder");
  await page.getByRole("button", { name: "Create agent" }).click();
  const token = page.getByTestId("new-token");
  await expect(token).toContainText("flt_");
  agentToken =
    ((await token.textContent()) ?? "").match(/flt_[\w-]+/)?.[0] ?? "";
  expect(agentToken).toMatch(/^flt_/);
});

test("the agent claims and completes a task; the board follows live", async ({
  request,
}) => {
  const api = agent(request);
  await openHydrated(page, `/projects/${project}/board`);
  const card = page.getByRole("article", { name: "Add limit and offset" });
  await expect(card).toBeVisible();

  const claim = await api.post("/api/agent/v1/tasks/claim");
  expect(claim.status()).toBe(200);
  const claimed = await claim.json();
  expect(claimed.task.title).toBe("Add limit and offset");
  expect(Date.parse(claimed.lease.expiresAt)).toBeGreaterThan(Date.now());
  await expect(card).toContainText("builder", { timeout: 5_000 });

  // Someone without the lease cannot touch the task.
  const stranger = await request.post(
    `/api/agent/v1/tasks/${claimed.task.id}/complete`,
    { headers: { authorization: "Bearer flt_unknown" }, data: {} },
  );
  expect(stranger.status()).toBe(401);

  const heartbeat = await api.post(
    `/api/agent/v1/tasks/${claimed.task.id}/heartbeat`,
  );
  expect(heartbeat.status()).toBe(200);
  const done = await api.post(
    `/api/agent/v1/tasks/${claimed.task.id}/complete`,
    {
      result: "limit/offset added",
    },
  );
  expect(done.status()).toBe(200);
  const doneColumn = page.getByRole("region", { name: /^Done/ });
  await expect(
    doneColumn.getByRole("article", { name: "Add limit and offset" }),
  ).toBeVisible({ timeout: 5_000 });

  const again = await api.post(
    `/api/agent/v1/tasks/${claimed.task.id}/complete`,
  );
  expect(again.status()).toBe(409);
});

test("hooks, transcript usage and OTLP land in priced sessions", async ({
  request,
}) => {
  const api = agent(request);
  for (const body of jsonLines("hooks/session-basic.jsonl")) {
    const response = await api.post("/api/agent/v1/hooks/claude-code", body);
    expect(response.status()).toBe(200);
    if (body.hook_event_name === "PreToolUse") {
      const answer = await response.json();
      expect(answer.hookSpecificOutput.permissionDecision).toBe("allow");
    }
  }

  // What the Stop-hook command sends: the transcript's usage lines as
  // native llm_call events.
  const usage = transcriptUsageEvents(
    jsonLines("hooks/transcript-usage.jsonl"),
  );
  expect(usage.length).toBeGreaterThan(0);
  const batch = await api.post("/api/agent/v1/events", {
    source: "claude-code-transcript",
    events: usage,
  });
  expect(batch.status()).toBe(200);
  expect((await batch.json()).accepted).toBe(usage.length);

  const traces = await api.post(
    "/api/otlp/v1/traces",
    jsonFile("otlp/genai-trace.json"),
  );
  expect(traces.status()).toBe(200);
  const logs = await api.post(
    "/api/otlp/v1/logs",
    jsonFile("otlp/claude-code-logs.json"),
  );
  expect(logs.status()).toBe(200);

  // A replay stores nothing new.
  const replay = await api.post("/api/agent/v1/events", {
    source: "claude-code-transcript",
    events: usage,
  });
  expect((await replay.json()).duplicate).toBe(usage.length);
});

test("the operator reads the session timeline", async () => {
  await openHydrated(page, `/projects/${project}/sessions`);
  const sessions = page.getByRole("table", { name: "Sessions" });
  // The three sessions the agent reported, and the one Flotilla keeps for
  // what the agent did through its API (the claim and completion above).
  await expect(sessions.getByRole("row")).toHaveCount(5);
  await expect(
    sessions.getByRole("link", { name: /Flotilla API calls on/ }),
  ).toBeVisible();
  await sessions
    .getByRole("link", {
      name: "Add pagination to GET /orders and update the API docs",
    })
    .click();

  const timeline = page.getByRole("table", { name: "Timeline" });
  await expect(timeline).toContainText("Bash");
  await expect(timeline).toContainText("error");
  await expect(timeline).toContainText("claude-sonnet-4-5-20250929");
  await expect(page.getByTestId("session-cost")).not.toHaveText("$0.00");
});

test("a project, session, goal, task, plan or document that does not exist is a 404 page", async () => {
  const unknownId = "00000000-0000-4000-8000-000000000000";
  for (const address of [
    "/projects/no-such-project",
    "/projects/no-such-project/context",
    `/projects/${project}/sessions/no-such-session`,
    `/projects/${project}/goals/${unknownId}`,
    `/projects/${project}/goals/not-an-id`,
    `/projects/${project}/tasks/${unknownId}`,
    `/projects/${project}/plans/not-an-id`,
    `/projects/${project}/context/${unknownId}`,
  ]) {
    const response = await page.goto(address);
    expect([address, response?.status()]).toEqual([address, 404]);
    await expect(
      page.getByRole("heading", { name: "Page not found" }),
    ).toBeVisible();
    await expect(
      page.getByRole("link", { name: "Back to the projects list" }),
    ).toBeVisible();
  }
});

test("the spend chart shows what the fleet cost", async () => {
  await openHydrated(page, `/projects/${project}/spend`);
  await page.getByLabel("From").fill("2026-11-01");
  const total = page.getByTestId("spend-total");
  await expect(total).toHaveText(/\$\d/);
  await expect(total).not.toHaveText("$0.00");
  await expect(page.locator(".recharts-bar-rectangle").first()).toBeVisible();
  await expect(
    page.getByRole("table", { name: "Spend by model" }),
  ).toContainText("claude-sonnet-4-5");
});

test("context search answers from the Next.js docs", async () => {
  await openHydrated(page, `/projects/${project}/context`);
  await page.getByLabel("Upload a whole folder").check();
  await page.getByLabel("Markdown files").setInputFiles(corpusDir);
  await page.getByRole("button", { name: "Upload" }).click();
  await expect(page.getByRole("status")).toContainText("Indexed 751 files", {
    timeout: 240_000,
  });

  const answer = page.getByLabel("Answer");
  await page.getByLabel("Question").fill("route handler cors headers");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(answer).toContainText(
    "app/api-reference/file-conventions/route.md",
  );
  await expect(answer).toContainText(
    /[\d,]+ tokens served \(section\); section [\d,]+, whole document [\d,]+/,
  );
  await expect(answer.getByLabel("Read as")).toHaveCount(0);

  // The docs never say "typeface"; the answer says it read it as "font".
  await page
    .getByLabel("Question")
    .fill("use a google typeface without layout shift");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(answer.getByLabel("Read as")).toHaveText(
    'Read "typeface" as "font" (synonym)',
  );

  await page
    .getByLabel("Question")
    .fill("How do I expose a gRPC service from a Next.js Route Handler?");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(
    answer.getByRole("heading", { name: "No answer" }),
  ).toBeVisible();
});

test("a goal over its budget refuses claims and is marked", async ({
  request,
}) => {
  const api = agent(request);
  const goalUrl = await createGoal("Tight budget", "0.01");
  await addTask("Expensive refactor", "9", "src/billing/**");

  const claim = await api.post("/api/agent/v1/tasks/claim");
  expect(claim.status()).toBe(200);
  const { task } = await claim.json();
  expect(task.title).toBe("Expensive refactor");
  const spend = await api.post("/api/agent/v1/events", {
    events: [
      {
        id: "budget-burn-1",
        sessionId: "budget-session",
        type: "llm_call",
        time: new Date().toISOString(),
        model: "claude-opus-4-1-20250805",
        usage: { inputTokens: 2000, outputTokens: 1000 },
        taskId: task.id,
      },
    ],
  });
  expect((await spend.json()).accepted).toBe(1);
  await api.post(`/api/agent/v1/tasks/${task.id}/release`);

  const refused = await api.post("/api/agent/v1/tasks/claim", {
    goalId: goalUrl.split("/").pop(),
  });
  expect(refused.status()).toBe(403);
  const body = await refused.json();
  expect(body.error.message).toContain("Tight budget");
  expect(body.error.message).toMatch(/\$0\.01/);

  await openHydrated(page, `/projects/${project}/goals`);
  await expect(
    page.getByRole("row", { name: "Goal Tight budget" }),
  ).toContainText("Over budget");
});

test("pausing the agent and revoking its token take effect at once", async ({
  request,
}) => {
  const api = agent(request);
  await openHydrated(page, `/projects/${project}/agents`);
  await page.getByLabel("Reason to pause builder").fill("runaway loop");
  await page.getByRole("button", { name: "Pause builder" }).click();
  await expect(
    page.getByRole("button", { name: "Resume builder" }),
  ).toBeVisible();

  const claim = await api.post("/api/agent/v1/tasks/claim");
  expect(claim.status()).toBe(403);
  expect((await claim.json()).error.message).toContain("runaway loop");
  const [preToolUse] = jsonLines("hooks/session-basic.jsonl").filter(
    (body) => body.hook_event_name === "PreToolUse",
  );
  const decision = await (
    await api.post("/api/agent/v1/hooks/claude-code", preToolUse)
  ).json();
  expect(decision.hookSpecificOutput.permissionDecision).toBe("deny");
  expect(decision.hookSpecificOutput.permissionDecisionReason).toContain(
    "paused",
  );

  await page.getByRole("button", { name: "Resume builder" }).click();
  await expect(
    page.getByRole("button", { name: "Pause builder" }),
  ).toBeVisible();
  const resumed = await api.post("/api/agent/v1/tasks/claim");
  expect([200, 204]).toContain(resumed.status());

  await page
    .getByRole("button", { name: `Revoke ${agentToken.slice(0, 12)}` })
    .click();
  await expect(page.getByText("revoked").first()).toBeVisible();
  const refused = await api.post("/api/agent/v1/tasks/claim");
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error.message).toContain("revoked");

  await openHydrated(page, `/projects/${project}/audit`);
  for (const action of ["agent.pause", "agent.resume", "token.revoke"]) {
    // Exact: the refusals the pause caused name "agent.paused" too.
    await expect(
      page.getByRole("cell", { name: action, exact: true }),
    ).toBeVisible();
  }
});

test("an agent's plan is approved in the console and becomes work", async ({
  request,
}) => {
  // The builder's token is revoked by now; a second agent does the planning.
  await openHydrated(page, `/projects/${project}/agents`);
  await page.getByLabel("Agent name").fill("planner");
  await page.getByRole("button", { name: "Create agent" }).click();
  const token = page.getByTestId("new-token");
  await expect(token).toContainText("flt_");
  agentToken =
    ((await token.textContent()) ?? "").match(/flt_[\w-]+/)?.[0] ?? "";
  const api = agent(request);

  const goalUrl = await createGoal("Order search", "20");
  const goalId = goalUrl.split("/").pop() ?? "";
  const submitted = await api.post(`/api/agent/v1/goals/${goalId}/plans`, {
    note: "Index first, then the endpoint",
    tasks: [
      {
        key: "index",
        title: "Index orders",
        scope: ["src/search/index.ts"],
        estimateUsd: 1.5,
        priority: 3,
      },
      {
        key: "endpoint",
        title: "Search endpoint",
        scope: ["src/routes/search.ts"],
        dependsOn: ["index"],
        estimateUsd: 2,
      },
    ],
  });
  expect(submitted.status()).toBe(201);
  const { plan } = await submitted.json();
  expect(plan.status).toBe("submitted");

  // The goal page lists the plan; the operator reviews and approves it.
  const planRow = page.getByRole("row", { name: "Plan v1" });
  await expect(planRow).toContainText("Awaiting review", { timeout: 5_000 });
  await planRow.getByRole("link", { name: "Plan v1" }).click();
  await expect(
    page.getByRole("heading", { level: 1, name: "Plan v1 for Order search" }),
  ).toBeVisible();
  await expect(
    page.getByRole("row", { name: "Planned task Search endpoint" }),
  ).toContainText("Index orders");
  await expect(page.getByRole("table")).toContainText("$3.50");
  await page.getByLabel("Comment").fill("Go ahead");
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByText(/^Approved by /)).toBeVisible();

  const polled = await api.get(`/api/agent/v1/plans/${plan.id}`);
  const decided = (await polled.json()).plan;
  expect(decided.status).toBe("approved");
  expect(decided.reviewComment).toBe("Go ahead");
  expect(decided.taskIds).toHaveLength(2);

  await openHydrated(page, `/projects/${project}/board`);
  const ready = page.getByRole("region", { name: /^Ready/ });
  await expect(
    ready.getByRole("article", { name: "Index orders" }),
  ).toBeVisible();
  await expect(
    page
      .getByRole("region", { name: /^Draft/ })
      .getByRole("article", { name: "Search endpoint" }),
  ).toBeVisible();

  const claim = await api.post("/api/agent/v1/tasks/claim", { goalId });
  expect(claim.status()).toBe(200);
  const { task } = await claim.json();
  expect(task.title).toBe("Index orders");
  const done = await api.post(`/api/agent/v1/tasks/${task.id}/complete`, {
    result: "indexed",
  });
  expect(done.status()).toBe(200);
  await expect(
    page
      .getByRole("region", { name: /^Done/ })
      .getByRole("article", { name: "Index orders" }),
  ).toBeVisible({ timeout: 5_000 });
  // Its dependent is now ready for the next claim.
  await expect(
    ready.getByRole("article", { name: "Search endpoint" }),
  ).toBeVisible({ timeout: 5_000 });
});

test("a critical red flag reaches the inbox and a signed webhook", async ({
  request,
}) => {
  // A receiver of our own on the loopback interface, checking signatures.
  const http = await import("node:http");
  const crypto = await import("node:crypto");
  let secret = "";
  const received: { body: string; signed: boolean; delivery: string }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const expected =
        "sha256=" +
        crypto.createHmac("sha256", secret).update(body).digest("hex");
      received.push({
        body,
        signed: req.headers["x-flotilla-signature"] === expected,
        delivery: String(req.headers["x-flotilla-delivery"] ?? ""),
      });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) =>
    receiver.listen(0, "127.0.0.1", resolve),
  );
  const { port } = receiver.address() as { port: number };

  try {
    await openHydrated(page, `/projects/${project}/settings`);
    await page
      .getByLabel("URL", { exact: true })
      .fill(`http://127.0.0.1:${port}/flotilla`);
    await page.getByLabel("Critical red flag").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const shown = page.getByTestId("webhook-secret");
    await expect(shown).toContainText("whsec_");
    secret = ((await shown.textContent()) ?? "").trim();

    const api = agent(request);
    const reported = await api.post("/api/agent/v1/events", {
      events: [
        {
          id: "wipe-1",
          sessionId: "wipe-session",
          type: "tool_call",
          name: "Bash",
          toolName: "Bash",
          time: new Date().toISOString(),
          input: { command: "rm -rf /" },
        },
      ],
    });
    expect(reported.status()).toBe(200);

    await openHydrated(page, `/projects/${project}/notifications`);
    await expect(page.getByTestId("notifications-badge")).toBeVisible();
    const title = "Critical red flag shell.recursive-delete from planner";
    const row = page.locator("tr", { hasText: title });
    await expect(row).toHaveAttribute("data-unread", "true");
    await page.getByRole("button", { name: "Mark all read" }).click();
    await expect(row).toHaveAttribute("data-unread", "false");
    await expect(page.getByTestId("notifications-badge")).toHaveCount(0);

    // The background worker posts it within a few seconds, signed.
    await expect
      .poll(() => received.length, { timeout: 20_000 })
      .toBeGreaterThan(0);
    expect(received[0].signed).toBe(true);
    expect(JSON.parse(received[0].body)).toMatchObject({
      kind: "red_flag",
      severity: "critical",
      title,
      project,
    });
    await openHydrated(page, `/projects/${project}/settings`);
    const deliveries = page.getByRole("table", { name: "Recent deliveries" });
    await expect(deliveries.getByRole("row", { name: title })).toContainText(
      "delivered",
    );
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
});

test("the kill switch stops a running test fleet", async ({ request }) => {
  // A goal of its own, so the fleet claims only the drill's tasks.
  const goalUrl = await createGoal("Fleet drill", "");
  const goalId = goalUrl.split("/").pop() ?? "";
  for (const n of [1, 2, 3]) await addTask(`Drill ${n}`, "1", `drill/${n}/**`);
  const secrets: string[] = [];
  await openHydrated(page, `/projects/${project}/agents`);
  for (const n of [1, 2, 3]) {
    await page.getByLabel("Agent name").fill(`fleet-${n}`);
    await page.getByRole("button", { name: "Create agent" }).click();
    await expect(page.getByRole("status", { name: "New token" })).toContainText(
      `Token for agent fleet-${n}`,
    );
    const token = page.getByTestId("new-token");
    // The form is cleared once the agents list has refreshed.
    await expect(page.getByLabel("Agent name")).toHaveValue("");
    secrets.push(
      ((await token.textContent()) ?? "").match(/flt_[\w-]+/)?.[0] ?? "",
    );
  }
  const [toolCall] = jsonLines("hooks/session-basic.jsonl").filter(
    (body) => body.hook_event_name === "PreToolUse",
  );

  // The fleet: each agent claims and asks for a tool decision in a loop,
  // as a Claude Code agent under Flotilla would.
  interface Call {
    kind: "claim" | "tool";
    startedAt: number;
    endedAt: number;
    refused: string | null;
    claimed?: string;
  }
  const calls: Call[][] = secrets.map(() => []);
  let running = true;
  const fleet = secrets.map(async (secret, index) => {
    const headers = { authorization: `Bearer ${secret}` };
    let sequence = 0;
    while (running) {
      let startedAt = Date.now();
      const claim = await request.post("/api/agent/v1/tasks/claim", {
        headers,
        data: { goalId },
      });
      const claimBody =
        claim.status() === 204 ? {} : await claim.json().catch(() => ({}));
      calls[index].push({
        kind: "claim",
        startedAt,
        endedAt: Date.now(),
        refused:
          claim.status() === 403 ? String(claimBody.error?.message) : null,
        claimed: claimBody.task?.title,
      });
      startedAt = Date.now();
      sequence += 1;
      const hook = await request.post("/api/agent/v1/hooks/claude-code", {
        headers,
        data: {
          ...toolCall,
          session_id: `fleet-${index}`,
          tool_use_id: `fleet-${index}-${sequence}`,
        },
      });
      const decision = (await hook.json()).hookSpecificOutput ?? {};
      calls[index].push({
        kind: "tool",
        startedAt,
        endedAt: Date.now(),
        refused:
          decision.permissionDecision === "deny"
            ? String(decision.permissionDecisionReason)
            : null,
      });
      // Paced like a working agent, not a load test.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  try {
    // Every agent holds a drill task and is allowed to use its tools.
    await expect
      .poll(() =>
        calls.every(
          (log) =>
            log.some((c) => c.claimed) &&
            log.some((c) => c.kind === "tool" && !c.refused),
        ),
      )
      .toBe(true);

    await openHydrated(page, `/projects/${project}/guardrails`);
    await page.getByLabel("Reason to pause the project").fill("fleet drill");
    await page.getByRole("button", { name: "Pause project" }).click();
    await expect(page.getByText("Every claim and tool call")).toBeVisible();
    const pausedSeen = Date.now();

    // New work appears while the project is paused; nobody may take it.
    await openHydrated(page, goalUrl);
    await addTask("Drill 4", "9", "drill/4/**");
    await expect
      .poll(() =>
        calls.every(
          (log) =>
            log.filter((c) => c.kind === "claim" && c.startedAt > pausedSeen)
              .length >= 2 &&
            log.filter((c) => c.kind === "tool" && c.startedAt > pausedSeen)
              .length >= 2,
        ),
      )
      .toBe(true);
    running = false;
    await Promise.all(fleet);

    for (const log of calls) {
      for (const kind of ["claim", "tool"] as const) {
        const after = log.filter(
          (c) => c.kind === kind && c.startedAt > pausedSeen,
        );
        for (const call of after) expect(call.refused).toContain("fleet drill");
        const first = log.find((c) => c.kind === kind && c.refused);
        expect(first!.endedAt - pausedSeen).toBeLessThan(1000);
      }
    }
    expect(calls.flat().filter((c) => c.claimed)).toHaveLength(3);
    await openHydrated(page, `/projects/${project}/board`);
    await expect(
      page
        .getByRole("region", { name: /^Ready/ })
        .getByRole("article", { name: "Drill 4" }),
    ).toBeVisible();
  } finally {
    running = false;
    await Promise.all(fleet);
    await openHydrated(page, `/projects/${project}/guardrails`);
    const resume = page.getByRole("button", { name: "Resume project" });
    const pause = page.getByRole("button", { name: "Pause project" });
    await expect(resume.or(pause)).toBeVisible();
    if (await resume.isVisible()) await resume.click();
    await expect(pause).toBeVisible();
  }

  // Resumed: the next claim takes the waiting task, and an operator hands
  // it to another agent from the task page.
  const first = { authorization: `Bearer ${secrets[0]}` };
  const claim = await request.post("/api/agent/v1/tasks/claim", {
    headers: first,
    data: { goalId },
  });
  expect(claim.status()).toBe(200);
  const claimed = await claim.json();
  expect(claimed.task.title).toBe("Drill 4");
  await openHydrated(page, `/projects/${project}/tasks/${claimed.task.id}`);
  await page.getByLabel("Reassign to").selectOption("fleet-2");
  await page.getByLabel("Reason").fill("fleet-1 is drilling");
  await page.getByRole("button", { name: "Reassign Drill 4" }).click();
  await expect(
    page.locator("dd", { hasText: "held by fleet-2" }),
  ).toBeVisible();
  const stale = await request.post(
    `/api/agent/v1/tasks/${claimed.task.id}/heartbeat`,
    { headers: first, data: { fencingToken: claimed.lease.fencingToken } },
  );
  expect(stale.status()).toBe(409);

  await openHydrated(page, `/projects/${project}/audit`);
  for (const action of ["project.pause", "project.resume", "task.reassign"]) {
    await expect(
      page.getByRole("cell", { name: action }).first(),
    ).toBeVisible();
  }
});

test("an ask decision approved in the console reaches the waiting agent", async ({
  request,
}) => {
  // An admin asks for a person on any DROP TABLE.
  await openHydrated(page, `/projects/${project}/guardrails`);
  const rules = page.getByRole("region", {
    name: "Tool, command and path rules",
  });
  await rules.getByLabel("Applies to").selectOption("project");
  await rules.getByLabel(/^Kind/).selectOption("command");
  await rules.getByLabel("Tool (name or glob)").fill("Bash");
  await rules
    .getByRole("textbox", { name: "Command pattern" })
    .fill("DROP TABLE");
  await rules.getByLabel(/^Decision/).selectOption("ask");
  await rules
    .getByLabel("Reason (shown to the agent or the person asked)")
    .fill("schema changes are reviewed");
  await rules.getByRole("button", { name: "Add rule" }).click();
  await expect(
    rules.getByText('Bash commands matching "DROP TABLE"'),
  ).toBeVisible();

  await openHydrated(page, `/projects/${project}/agents`);
  await page.getByLabel("Agent name").fill("migrator");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.getByRole("status", { name: "New token" })).toContainText(
    "Token for agent migrator",
  );
  const secret =
    ((await page.getByTestId("new-token").textContent()) ?? "").match(
      /flt_[\w-]+/,
    )?.[0] ?? "";

  // Claude Code's PreToolUse hook: the answer waits for a person.
  const command = "psql -c 'DROP TABLE legacy_orders'";
  const waiting = request.post("/api/agent/v1/hooks/claude-code", {
    headers: { authorization: `Bearer ${secret}` },
    data: {
      session_id: "e2e-ask",
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command },
      tool_use_id: "e2e-ask-1",
      cwd: "/repo",
    },
    timeout: 60_000,
  });

  await openHydrated(page, `/projects/${project}/approvals`);
  await expect(
    page.getByRole("link", { name: /Approvals/ }).getByLabel("1 pending"),
  ).toBeVisible();
  const item = page.getByRole("article", {
    name: `Tool call: Bash: ${command}`,
  });
  await expect(item).toBeVisible();
  await expect(item).toContainText("Requested by agent migrator");
  await expect(item).toContainText("schema changes are reviewed");
  await expect(item.getByRole("link", { name: "e2e-ask" })).toBeVisible();
  await item.getByLabel("Comment").fill("legacy table, fine");
  await item.getByRole("button", { name: "Approve" }).click();

  const answer = await waiting;
  expect(answer.status()).toBe(200);
  const { hookSpecificOutput } = await answer.json();
  expect(hookSpecificOutput.permissionDecision).toBe("allow");
  expect(hookSpecificOutput.permissionDecisionReason).toContain(
    `Approved by ${admin.email}`,
  );
  const decided = page.getByRole("table", { name: "Decided approvals" });
  await expect(
    decided.getByRole("row", { name: /legacy_orders/ }),
  ).toContainText("legacy table, fine");
  await expect(page.getByText("Nothing waits for a decision.")).toBeVisible();
});

test("the home page shows what needs the operator; goals carry a checklist; the audit log filters and exports", async () => {
  // Signed in with one project, the front door opens its home page.
  await openHydrated(page, "/");
  await expect(page).toHaveURL(new RegExp(`/projects/${project}$`));
  const sections = page.locator("main section h2");
  await expect(sections).toHaveText([
    "Approvals waiting",
    "Blocked tasks and escalations",
    "Budget alerts",
    "Red flags (last 24 h)",
    "Fleet",
    "Goals",
  ]);
  await expect(
    page.getByRole("region", { name: "Budget alerts" }),
  ).toContainText("Tight budget");

  await openHydrated(page, `/projects/${project}/goals`);
  await page.getByLabel("Title").fill("Launch search");
  await page
    .getByLabel("Success criteria (one per line)")
    .fill("p95 under 200 ms\nDocs updated");
  await page.getByLabel("Owner (email)").fill(admin.email);
  await page.getByLabel("Due date").fill("2030-06-30");
  await page.getByLabel(/^Save as a draft/).check();
  await page.getByRole("button", { name: "Create goal" }).click();
  const row = page.getByRole("row", { name: "Goal Launch search" });
  await expect(row).toContainText("draft");
  await expect(row).toContainText("2030-06-30");
  await row.getByRole("link", { name: "Launch search" }).click();

  const checklist = page.getByRole("list", { name: "Success criteria" });
  await checklist.getByRole("checkbox", { name: "Docs updated" }).check();
  await expect(page.getByText("(1 of 2 met)")).toBeVisible();
  await expect(page.getByLabel("Forecast")).toContainText("Not enough data");

  await openHydrated(page, `/projects/${project}/audit?action=goal.criterion`);
  await expect(
    page.getByRole("cell", { name: "goal.criterion.done" }),
  ).toBeVisible();
  const csv = await page.request.get(
    `/projects/${project}/audit/export?format=csv&action=goal.criterion`,
  );
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toContain(",goal.criterion.done,goal,");

  // Refusals of agents earlier in the run (budget, pause, kill switch).
  await page.getByLabel("Action starts with").fill("guardrail.refused");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=guardrail\.refused/);
  await expect(
    page.getByRole("cell", { name: /guardrail\.refused/ }).first(),
  ).toBeVisible();
});
