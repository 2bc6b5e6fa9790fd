import { expect, test, type Page } from "@playwright/test";
import { agentApi, createAgentToken, ensureProject, signIn } from "./support";

// An admin finds a model nothing prices, gives it a project price and
// reprices its events from the Prices page.

test.describe.configure({ mode: "serial" });

const run = Math.random().toString(36).slice(2, 8);
const project = `prices-${run}`;
const model = `llama-e2e-${run}-70b`;
let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
});

test.afterAll(async () => {
  await page.close();
});

test("an unpriced model is priced and its events repriced", async ({
  request,
}) => {
  await signIn(page);
  await ensureProject(page, project, `Prices ${run}`);
  const api = agentApi(
    request,
    await createAgentToken(page, project, `agent-${run}`),
  );
  const sent = await api.post("/api/agent/v1/events", {
    events: [1, 2].map((n) => ({
      id: `prices-e2e-${run}-${n}`,
      sessionId: `prices-e2e-${run}`,
      type: "llm_call",
      time: `2026-11-0${n}T10:00:00Z`,
      model,
      usage: { inputTokens: 1_000_000, outputTokens: 500_000 },
    })),
  });
  expect(sent.ok()).toBe(true);

  await page.goto(`/projects/${project}`);
  await page.getByRole("link", { name: "Prices", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Prices");
  const unpriced = page.getByRole("region", { name: "Unpriced models" });
  const row = unpriced.getByRole("row").filter({ hasText: model });
  await expect(row).toContainText("none");
  await expect(row.getByRole("cell").nth(1)).toHaveText("2");
  await expect(
    page.getByRole("region", { name: "Built-in prices" }).getByRole("row", {
      name: /^o3 openai/,
    }),
  ).toHaveCount(2);

  // A bad rate is refused on its field; a good price is listed.
  const prices = page.getByRole("region", { name: "Project prices" });
  await prices.getByLabel("Model pattern").fill("llama-e2e-*");
  await prices.getByLabel("Input, USD per million tokens").fill("-1");
  await prices.getByLabel("Output, USD per million tokens").fill("2");
  await prices.getByLabel("Effective from (UTC)").fill("2026-10-01");
  await prices.getByRole("button", { name: "Add price" }).click();
  await expect(prices.getByText("Input must be 0 or more")).toBeVisible();
  await prices.getByLabel("Input, USD per million tokens").fill("1");
  await prices.getByRole("button", { name: "Add price" }).click();
  await expect(
    prices.getByRole("row").filter({ hasText: "llama-e2e-*" }),
  ).toContainText("2026-10-01");

  // 1M input at $1 + 0.5M output at $2 = $2 per event.
  await expect(row).toContainText("available");
  await row.getByRole("button", { name: `Reprice ${model}` }).click();
  await expect(unpriced.getByRole("status")).toHaveText(
    "Repriced 2 events ($4.00000000); 0 still unpriced.",
  );
  await expect(
    unpriced.getByText("Every event with tokens has a price."),
  ).toBeVisible();

  await prices
    .getByRole("button", {
      name: "Delete price for llama-e2e-* from 2026-10-01",
    })
    .click();
  await expect(
    prices.getByText("No project prices: the built-in table applies."),
  ).toBeVisible();
});
