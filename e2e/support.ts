import { expect, type APIRequestContext, type Page } from "@playwright/test";

// Steps several specs share, written so a spec works on a fresh database
// and on one another spec already used: the first admin is created through
// the one-time setup page only when none exists, and a project or agent is
// created only when it is missing.

/** The operator every spec signs in as (the same one console.spec.ts
 * creates, so the specs can run in any order on one database). */
export const operator = {
  name: "Ops",
  email: "ops@flotilla.test",
  password: "correct horse battery",
};

/** Signs `page` in as the operator, creating the first admin through the
 * setup page when the install has none yet. Ends on /projects. */
export async function signIn(page: Page): Promise<void> {
  await page.goto("/setup");
  await page.waitForURL(/\/(setup|sign-in|projects)$/);
  const url = new URL(page.url());
  if (url.pathname === "/setup") {
    await page.getByLabel("Name").fill(operator.name);
    await page.getByLabel("Email").fill(operator.email);
    await page.getByLabel("Password").fill(operator.password);
    await page.getByRole("button", { name: "Create admin" }).click();
  } else if (url.pathname === "/sign-in") {
    await page.getByLabel("Email").fill(operator.email);
    await page.getByLabel("Password").fill(operator.password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  // Signing in may land on the project last opened.
  await expect(page).toHaveURL(/\/projects(\/|$)/);
  if (!/\/projects$/.test(new URL(page.url()).pathname)) {
    await page.goto("/projects");
  }
  await expect(page).toHaveURL(/\/projects$/);
}

/** Opens project `slug`, creating it first when it does not exist yet.
 * The page must be signed in. */
export async function ensureProject(
  page: Page,
  slug: string,
  name: string = slug,
): Promise<void> {
  await page.goto("/projects");
  const list = page.getByRole("region", { name: "Your projects" });
  await expect(list.getByText("Loading projects…")).toHaveCount(0);
  const existing = list.getByRole("row").filter({
    has: page.getByRole("cell", { name: slug, exact: true }),
  });
  if ((await existing.count()) === 0) {
    await page.getByLabel("Slug").fill(slug);
    await page.getByLabel("Name").fill(name);
    await page.getByRole("button", { name: "Create project" }).click();
  } else {
    await page.goto(`/projects/${slug}`);
  }
  await expect(page).toHaveURL(new RegExp(`/projects/${slug}$`));
}

/** Creates an agent in project `slug` and returns its first token. A new
 * agent is made each time (a token is shown once), so pass a name that
 * is new to the project, e.g. with a random suffix. */
export async function createAgentToken(
  page: Page,
  slug: string,
  agentName: string,
): Promise<string> {
  await page.goto(`/projects/${slug}/agents`);
  await page.getByLabel("Agent name").fill(agentName);
  await page.getByRole("button", { name: "Create agent" }).click();
  const shown = page.getByTestId("new-token");
  await expect(shown).toContainText("flt_");
  const token = ((await shown.textContent()) ?? "").match(/flt_[\w-]+/)?.[0];
  expect(token).toMatch(/^flt_/);

  return token ?? "";
}

/** The agent API as one agent: POST and GET with its bearer token. */
export function agentApi(request: APIRequestContext, token: string) {
  const headers = { authorization: `Bearer ${token}` };

  return {
    post: (url: string, data?: unknown) =>
      request.post(url, { headers, data: data ?? {} }),
    get: (url: string, params?: Record<string, string>) =>
      request.get(url, { headers, params }),
  };
}

/** Creates a goal in project `slug` with a USD budget ("" for none) and
 * opens its page; returns the goal page's URL. */
export async function createGoal(
  page: Page,
  slug: string,
  title: string,
  budgetUsd: string,
): Promise<string> {
  await page.goto(`/projects/${slug}/goals`);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel(/^Budget in USD/).fill(budgetUsd);
  await page.getByRole("button", { name: "Create goal" }).click();
  const row = page.getByRole("row", { name: `Goal ${title}` });
  await expect(row).toBeVisible();
  await row.getByRole("link", { name: title }).click();
  await expect(
    page.getByRole("heading", { level: 1, name: title }),
  ).toBeVisible();

  return page.url();
}

/** Adds a task to the goal whose page is open. */
export async function addTask(
  page: Page,
  title: string,
  priority: string,
  scope: string,
): Promise<void> {
  const form = page.getByRole("form", { name: "New task" });
  await form.getByLabel("Task title").fill(title);
  await form.getByLabel("Priority").fill(priority);
  await form.getByLabel("Scope (path globs, one per line)").fill(scope);
  await form.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByRole("row", { name: `Task ${title}` })).toBeVisible();
}

/** Opens `url` and waits until React has hydrated the page (the console
 * marks <html data-hydrated>), so a form filled in and submitted at once
 * is handled by the page rather than posted natively. */
export async function openHydrated(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}
