import {
  expect,
  test,
  type APIRequestContext,
  type Page,
} from "@playwright/test";
import { transcriptUsageEvents } from "@/server/observability/normalize/claude-code-transcript";
import { corpusDir, jsonFile, jsonLines } from "./cases";

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
  await page.goto(`/projects/${project}/goals`);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Budget in USD (optional)").fill(budget);
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
  await page.goto("/");
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel("Name").fill("Ops");
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Create admin" }).click();
  await expect(page).toHaveURL(/\/projects$/);

  // Once an admin exists the setup page is gone.
  await page.goto("/setup");
  await expect(page).toHaveURL(/\/projects$/);
});

test("the operator signs in and creates a project", async () => {
  await page.context().clearCookies();
  await page.goto("/setup");
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

  await page.goto(`/projects/${project}/agents`);
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
  await page.goto(`/projects/${project}/board`);
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
  await page.goto(`/projects/${project}/sessions`);
  const sessions = page.getByRole("table", { name: "Sessions" });
  await expect(sessions.getByRole("row")).toHaveCount(4);
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

test("the spend chart shows what the fleet cost", async () => {
  await page.goto(`/projects/${project}/spend`);
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
  await page.goto(`/projects/${project}/context`);
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
  await expect(answer).toContainText(/\d+ tokens served of \d+ in the file/);

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

  await page.goto(`/projects/${project}/goals`);
  await expect(
    page.getByRole("row", { name: "Goal Tight budget" }),
  ).toContainText("Over budget");
});

test("pausing the agent and revoking its token take effect at once", async ({
  request,
}) => {
  const api = agent(request);
  await page.goto(`/projects/${project}/agents`);
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

  await page.goto(`/projects/${project}/audit`);
  for (const action of ["agent.pause", "agent.resume", "token.revoke"]) {
    await expect(page.getByRole("cell", { name: action })).toBeVisible();
  }
});

test("an agent's plan is approved in the console and becomes work", async ({
  request,
}) => {
  // The builder's token is revoked by now; a second agent does the planning.
  await page.goto(`/projects/${project}/agents`);
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

  await page.goto(`/projects/${project}/board`);
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
