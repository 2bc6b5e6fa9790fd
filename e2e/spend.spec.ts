import fs from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { agentApi, createAgentToken, ensureProject, signIn } from "./support";

// A team lead reads what two agents cost: spend the agents reported through
// the agent API shows on the Spend page, a filter narrows it (and is kept
// in the URL), and the CSV download holds what the page shows.

test.describe.configure({ mode: "serial" });

// A project of this run's own, so the figures are exact on a database
// other specs (or earlier runs) already used.
const run = Math.random().toString(36).slice(2, 8);
const project = `spend-${run}`;
const alpha = `alpha-${run}`;
const beta = `beta-${run}`;
let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
});

test.afterAll(async () => {
  await page.close();
});

function llmCall(n: number, time: string, model: string, costUsd: number) {
  return {
    id: `spend-e2e-${run}-${n}`,
    sessionId: `spend-e2e-${run}`,
    type: "llm_call",
    time,
    model,
    usage: { inputTokens: 1200, outputTokens: 300 },
    costUsd,
  };
}

test("two agents report priced calls", async ({ request }) => {
  await signIn(page);
  await ensureProject(page, project, `Spend ${run}`);
  const alphaApi = agentApi(
    request,
    await createAgentToken(page, project, alpha),
  );
  const betaApi = agentApi(
    request,
    await createAgentToken(page, project, beta),
  );

  const sent = [
    await alphaApi.post("/api/agent/v1/events", {
      events: [
        llmCall(1, "2026-11-02T10:00:00Z", "claude-sonnet-4-5", 1.25),
        llmCall(2, "2026-11-03T09:00:00Z", "claude-sonnet-4-5", 0.5),
      ],
    }),
    await betaApi.post("/api/agent/v1/events", {
      events: [llmCall(3, "2026-11-03T11:00:00Z", "gpt-4.1", 2.5)],
    }),
  ];
  for (const response of sent) expect(response.status()).toBe(200);
});

test("the Spend page shows the range, and a filter narrows it", async () => {
  await page.goto(`/projects/${project}/spend?from=2026-11-01&to=2026-11-07`);
  const total = page.getByTestId("spend-total");
  await expect(total).toHaveText("$4.25");
  await expect(page.getByLabel("From")).toHaveValue("2026-11-01");
  await expect(page.locator(".recharts-bar-rectangle").first()).toBeVisible();
  const byAgent = page.getByRole("table", { name: "Spend by agent" });
  await expect(byAgent).toContainText(alpha);
  await expect(byAgent).toContainText(beta);
  await expect(
    page.getByRole("table", { name: "Spend by model" }),
  ).toContainText("gpt-4.1");

  await page.getByLabel("Agent", { exact: true }).selectOption({ label: beta });
  await expect(page).toHaveURL(/[?&]agent=[0-9a-f-]{36}/);
  await expect(total).toHaveText("$2.50");
  await expect(byAgent.getByRole("row")).toHaveCount(2);
  await expect(byAgent).toContainText(beta);
  await expect(byAgent).not.toContainText(alpha);

  await page.getByLabel("Stack by").selectOption("model");
  await expect(page).toHaveURL(/[?&]stack=model/);
  await expect(
    page.getByRole("figure", { name: "Spend per day by model" }),
  ).toContainText("gpt-4.1");

  // The URL alone brings the same view back.
  await page.reload();
  await expect(total).toHaveText("$2.50");
  await expect(page.getByLabel("Agent", { exact: true })).toHaveValue(
    /[0-9a-f-]{36}/,
  );
});

test("the CSV download holds what the page shows", async () => {
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(
    `${project}-spend-2026-11-01-to-2026-11-07.csv`,
  );
  const text = fs.readFileSync(await download.path(), "utf8");
  const lines = text.trimEnd().split("\r\n");
  const header = lines[0].split(",");
  expect(header.slice(0, 5)).toEqual([
    "section",
    "bucket",
    "id",
    "name",
    "cost_usd",
  ]);
  const rows = lines.slice(1).map((line) => line.split(","));
  const pick = (section: string) =>
    rows
      .filter((row) => row[0] === section)
      .map((row) => [row[1], row[3], row[4]]);

  expect(pick("spend_by_model")).toEqual([
    ["2026-11-03", "gpt-4.1", "2.50000000"],
  ]);
  expect(pick("total")).toEqual([["2026-11-01..2026-11-07", "", "2.50000000"]]);
  expect(pick("top_agent")).toEqual([["", beta, "2.50000000"]]);
  expect(text).not.toContain(alpha);
});
