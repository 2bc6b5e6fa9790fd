import { expect, test, type Page } from "@playwright/test";
import { agentApi, createAgentToken, ensureProject, signIn } from "./support";

// An admin adds a red-flag rule on the Guardrails page; agents report; the
// sessions list shows each session's grade with its reasons and its flags
// by severity, narrows by the filters kept in the URL, and shows a new
// session within two seconds without a reload.

test.describe.configure({ mode: "serial" });

const project = "graded";
const shots = process.env.E2E_SCREENSHOT_DIR;
let page: Page;
let token = "";

function event(
  sessionId: string,
  id: string,
  minute: number,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    sessionId,
    type: "tool_call",
    name: "Bash",
    toolName: "Bash",
    time: new Date(Date.UTC(2026, 11, 1, 10, minute)).toISOString(),
    ...extra,
  };
}

function sessions() {
  return page.getByRole("table", { name: "Sessions" });
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
});

test.afterAll(async () => {
  await page.close();
});

test("an admin adds, disables and deletes red-flag rules", async () => {
  await signIn(page);
  await ensureProject(page, project, "Graded");
  token = await createAgentToken(
    page,
    project,
    `grader-${Date.now().toString(36)}`,
  );

  await page.goto(`/projects/${project}/guardrails`);
  const panel = page.getByRole("region", { name: "Red-flag rules" });
  const add = async (name: string, kind: string, pattern: string) => {
    await panel.getByLabel("Name").fill(name);
    await panel.getByLabel("Kind").selectOption(kind);
    await panel
      .getByRole("textbox", {
        name: kind === "substring" ? "Text" : "Path glob",
      })
      .fill(pattern);
    await panel.locator('select[name="severity"]').selectOption("critical");
    await panel.getByRole("button", { name: "Add rule" }).click();
  };
  const rules = panel.getByRole("table", { name: "Red-flag rules" });
  for (const [name, kind, pattern] of [
    ["prod-db", "substring", "prod-db-01"],
    ["payments", "path_glob", "services/payments/**"],
    ["scratch", "substring", "scratch"],
  ]) {
    await add(name, kind, pattern);
    // The form empties once the rule is stored.
    await expect(rules.locator(`[data-flag-rule="${name}"]`)).toBeVisible();
  }
  await expect(rules.getByRole("row")).toHaveCount(4);

  await add("bad-glob", "path_glob", "src/*.{ts,js}");
  await expect(
    panel.getByText("[ ] { } and ! are not supported"),
  ).toBeVisible();
  await add("prod-db", "substring", "other");
  await expect(panel.getByText("A rule with this name exists")).toBeVisible();

  const payments = rules.locator('[data-flag-rule="payments"]');
  await payments.getByRole("button", { name: "Disable" }).click();
  await expect(payments).toContainText("off");
  await rules.getByRole("button", { name: "Delete rule scratch" }).click();
  await expect(rules.getByRole("row")).toHaveCount(3);
  if (shots) await panel.screenshot({ path: `${shots}/flag-rules-panel.png` });
});

test("the sessions list grades sessions and keeps its filters in the URL", async ({
  request,
}) => {
  const api = agentApi(request, token);
  const sent = await api.post("/api/agent/v1/events", {
    events: [
      event("clean-run", "c1", 0, {
        type: "file_change",
        name: "Write",
        toolName: "Write",
        input: { file_path: "src/orders.ts", content: "x" },
      }),
      event("clean-run", "c2", 1, { input: { command: "npm test" } }),
      event("risky-run", "r1", 2, {
        input: { command: "psql -h prod-db-01 -c 'select 1'" },
      }),
      event("risky-run", "r2", 3, {
        input: { command: "npm test" },
        status: "error",
      }),
      // The payments rule is off: this write raises no flag.
      event("risky-run", "r3", 4, {
        type: "file_change",
        name: "Write",
        toolName: "Write",
        input: { file_path: "services/payments/api.ts", content: "x" },
      }),
    ],
  });
  expect(sent.status()).toBe(200);

  await page.goto(`/projects/${project}/sessions`);
  const clean = sessions().locator('[data-session="clean-run"]');
  const risky = sessions().locator('[data-session="risky-run"]');
  await expect(clean.getByText("A", { exact: true })).toBeVisible();
  await expect(risky).toContainText("1 critical");
  await expect(risky.getByText("F", { exact: true })).toBeVisible();
  await risky.getByText("F", { exact: true }).click();
  await expect(risky).toContainText("Safety poor: 1 critical flag");
  await expect(risky).toContainText(
    "Reliability fair: 1 of 3 attempts failed (33%)",
  );

  // A session reported while the list is open shows within two seconds.
  await api.post("/api/agent/v1/events", {
    events: [event("late-run", "l1", 5, { input: { command: "ls" } })],
  });
  await expect(sessions().locator('[data-session="late-run"]')).toBeVisible({
    timeout: 2_500,
  });
  if (shots) {
    await page.screenshot({
      path: `${shots}/sessions-list.png`,
      fullPage: true,
    });
  }

  await page.getByRole("combobox", { name: /^Grade/ }).selectOption("F");
  await expect(page).toHaveURL(/grade=F/);
  await expect(sessions().getByRole("row")).toHaveCount(2);
  await page.reload();
  await expect(page.getByRole("combobox", { name: /^Grade/ })).toHaveValue("F");
  await expect(sessions().getByRole("row")).toHaveCount(2);
  await expect(risky).toBeVisible();

  await page.getByRole("combobox", { name: /^Grade/ }).selectOption("");
  await page
    .getByRole("combobox", { name: /^Flag/ })
    .selectOption("custom.prod-db");
  await expect(sessions().getByRole("row")).toHaveCount(2);
  await page.getByRole("combobox", { name: /^Flag/ }).selectOption("");
  await page.getByLabel("Cost from ($)").fill("5");
  await page.getByLabel("Cost to ($)").fill("1");
  await expect(
    page.getByText("Must be at least the minimum cost"),
  ).toBeVisible();
  if (shots) {
    await page.screenshot({ path: `${shots}/sessions-bad-filter.png` });
  }
});
