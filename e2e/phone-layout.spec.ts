import { expect, test, type Locator, type Page } from "@playwright/test";
import {
  addTask,
  agentApi,
  createAgentToken,
  createGoal,
  ensureProject,
  signIn,
} from "./support";

// The console on a phone (390 x 844, the size of a common handset): every
// main page fits the screen's width, so the page never scrolls sideways, and
// the navigation folds behind a Menu button that opens it and takes the
// operator to another page. On a laptop the sidebar shows every link.

test.describe.configure({ mode: "serial" });

const phone = { width: 390, height: 844 };
const run = Math.random().toString(36).slice(2, 8);
const project = `phone-${run}`;
// Long names and paths, as real goals and scopes have, so tables are wide.
const goalTitle = `Paginate every list endpoint of the public orders API ${run}`;
const taskTitle = "Add limit and offset to GET /orders and document them";
let page: Page;
let goalUrl = "";

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: phone });
});

test.afterAll(async () => {
  await page.close();
});

/** How far the page reaches past the right edge of the screen, in px. */
async function sidewaysOverflow(): Promise<number> {
  return page.evaluate(
    () =>
      document.documentElement.scrollWidth -
      document.documentElement.clientWidth,
  );
}

/** Opens `url`, waits for `ready` (what shows once the page's data has
 * loaded) and checks the page fits the screen's width. */
async function expectFitsPhone(url: string, ready: (p: Page) => Locator) {
  await page.goto(url);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(ready(page).first()).toBeVisible();
  expect(await sidewaysOverflow(), `${url} scrolls sideways`).toBe(0);
}

test("a project with work in it, made on a phone", async ({ request }) => {
  await signIn(page);
  await ensureProject(page, project, `Phone layout ${run}`);
  const api = agentApi(
    request,
    await createAgentToken(page, project, `builder-${run}`),
  );
  goalUrl = await createGoal(page, project, goalTitle, "12");
  await addTask(
    page,
    taskTitle,
    "5",
    "src/api/orders/list-endpoints/pagination/**\ndocs/api/orders.md",
  );

  // One priced model call, so the sessions and spend pages have rows.
  const sent = await api.post("/api/agent/v1/events", {
    events: [
      {
        id: `phone-e2e-${run}`,
        sessionId: `phone-e2e-${run}`,
        type: "llm_call",
        time: new Date().toISOString(),
        model: "claude-sonnet-4-5",
        usage: { inputTokens: 120_000, outputTokens: 8_000 },
      },
    ],
  });
  expect(sent.ok()).toBe(true);
});

test("no main page scrolls sideways on a phone", async () => {
  const base = `/projects/${project}`;
  const pages: [string, (p: Page) => Locator][] = [
    ["/projects", (p) => p.getByRole("cell", { name: project, exact: true })],
    [base, (p) => p.getByRole("link", { name: goalTitle })],
    [`${base}/goals`, (p) => p.getByRole("row", { name: `Goal ${goalTitle}` })],
    [goalUrl, (p) => p.getByRole("row", { name: `Task ${taskTitle}` })],
    [`${base}/board`, (p) => p.getByRole("article", { name: taskTitle })],
    [`${base}/sessions`, (p) => p.getByRole("table", { name: "Sessions" })],
    [`${base}/spend`, (p) => p.getByTestId("spend-total")],
    [`${base}/context`, (p) => p.getByLabel("Question")],
    [`${base}/guardrails`, (p) => p.getByRole("table")],
    [`${base}/agents`, (p) => p.getByRole("cell", { name: `builder-${run}` })],
    [`${base}/audit`, (p) => p.getByRole("table", { name: "Audit log" })],
    [`${base}/settings`, (p) => p.getByRole("button")],
    ["/settings/tokens", (p) => p.getByRole("button", { name: /token/i })],
  ];
  for (const [url, ready] of pages) {
    await expectFitsPhone(url, ready);
  }
});

test("the navigation opens from the Menu button on a phone", async () => {
  await page.goto(`/projects/${project}/spend`);
  const nav = page.getByRole("navigation", { name: "Project" });
  const goals = nav.getByRole("link", { name: "Goals", exact: true });

  // Folded away, the links leave the screen to the page.
  await expect(goals).toBeHidden();
  const menu = nav.getByRole("button", { name: "Menu" });
  await expect(menu).toBeInViewport();

  // Escape folds it away again.
  await menu.click();
  await expect(goals).toBeInViewport();
  await page.keyboard.press("Escape");
  await expect(goals).toBeHidden();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(menu).toBeFocused();

  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await expect(goals).toBeInViewport();
  await goals.click();

  await expect(page).toHaveURL(new RegExp(`/projects/${project}/goals$`));
  await expect(
    page.getByRole("heading", { level: 1, name: "Goals" }),
  ).toBeVisible();
  // The menu closes on arrival, so the page is what the operator sees.
  await expect(goals).toBeHidden();
  expect(await sidewaysOverflow()).toBe(0);
});

test("on a laptop the sidebar shows every link and no Menu", async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`/projects/${project}`);
  const nav = page.getByRole("navigation", { name: "Project" });
  await expect(nav.getByRole("button", { name: "Menu" })).toBeHidden();
  await expect(
    nav.getByRole("link", { name: "Audit log", exact: true }),
  ).toBeInViewport();
  expect(await sidewaysOverflow()).toBe(0);
});
