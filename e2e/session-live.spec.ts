import { expect, test, type Page } from "@playwright/test";
import { agentApi, createAgentToken, ensureProject, signIn } from "./support";

// An open session page keeps up with a running agent: events reported
// through the agent API appear within seconds without a reload, in their
// place in the span tree, and the totals, flags and chain badge follow.
// The reader keeps their place and their chosen event; one at the bottom
// follows new rows, one elsewhere is told how many arrived.

test.describe.configure({ mode: "serial" });

const project = "live-sessions";
const sessionId = "live-run";
const FIRST = 40;
const start = Date.parse("2026-12-03T10:00:00.000Z");
const awsKey = "AKIA" + "LIVEQWERTYUIOPAS";
let page: Page;
let token = "";
// The request fixture lasts one test, so each test makes its own client.
let api: ReturnType<typeof agentApi>;

// Every tenth event opens a span; the nine after it are its children.
function event(i: number, extra: Record<string, unknown> = {}) {
  const root = i % 10 === 0;

  return {
    id: `live-${i}`,
    sessionId,
    sessionTitle: "Live run",
    type: root ? "span" : "tool_call",
    name: root ? `phase ${i / 10}` : `step ${i}`,
    time: new Date(start + i * 1_000).toISOString(),
    durationMs: root ? 9_000 : 400,
    spanId: `span-${i}`,
    ...(root ? {} : { parentSpanId: `span-${i - (i % 10)}`, toolName: "Read" }),
    ...extra,
  };
}

async function report(events: unknown[]) {
  const response = await api.post("/api/agent/v1/events", { events });
  expect(response.status()).toBe(200);
  expect((await response.json()).accepted).toBe(events.length);
}

function timeline() {
  return page.getByRole("table", { name: "Timeline" });
}

function row(name: string) {
  return timeline()
    .locator('[role="row"][data-index]')
    .filter({ has: page.getByText(name, { exact: true }) });
}

function body() {
  return timeline().getByRole("rowgroup", { name: "Events" });
}

/** Whether the row named `name` shows whole in the timeline's scroll box. */
async function inView(name: string): Promise<boolean> {
  const box = await body().boundingBox();
  const shown = await row(name).boundingBox();
  if (!box || !shown) return false;

  return (
    shown.y >= box.y - 1 && shown.y + shown.height <= box.y + box.height + 1
  );
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
});

test.afterAll(async () => {
  await page.close();
});

test("an agent starts a session", async ({ request }) => {
  await expect(() => signIn(page)).toPass({
    intervals: [2_000, 5_000],
    timeout: 90_000,
  });
  await ensureProject(page, project, "Live sessions");
  token = await createAgentToken(
    page,
    project,
    `live-runner-${Date.now().toString(36)}`,
  );
  api = agentApi(request, token);
  await report(Array.from({ length: FIRST }, (_, i) => event(i)));

  await page.goto(`/projects/${project}/sessions`);
  await page
    .getByRole("table", { name: "Sessions" })
    .getByRole("link", { name: "Live run" })
    .click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Live run");
  await expect(page.getByTestId("session-events")).toHaveText("40 events");
  await expect(page.getByTestId("session-flags")).toHaveText("no flags");
  await expect(page.getByTestId("session-chain")).toHaveText("chain verified");
});

test("new events appear without a reload, and the totals follow", async ({
  request,
}) => {
  api = agentApi(request, token);
  // A mark in the page's window: a reload would clear it.
  await page.evaluate(() => {
    (window as unknown as { liveMark: number }).liveMark = 1;
  });
  await row("step 3").click();
  const detail = page.getByRole("complementary", { name: "Event detail" });
  await expect(detail).toContainText("step 3");
  const costBefore = await page.getByTestId("session-cost").textContent();
  const tokensBefore = await page.getByTestId("session-tokens").textContent();

  // A model call, a late child of the first span (earlier in time than
  // most rows), and a command that leaks a key.
  await report([
    event(FIRST, {
      type: "llm_call",
      name: "plan next step",
      model: "claude-sonnet-4-5-20250929",
      usage: { inputTokens: 12_000, outputTokens: 900 },
      parentSpanId: "span-30",
    }),
    event(FIRST + 1, {
      name: "late check",
      time: new Date(start + 4_500).toISOString(),
      parentSpanId: "span-0",
      toolName: undefined,
      type: "message",
    }),
    event(FIRST + 2, {
      name: "export key",
      toolName: "Bash",
      parentSpanId: "span-30",
      input: { command: `export AWS_ACCESS_KEY_ID=${awsKey}` },
    }),
  ]);

  await expect(page.getByTestId("session-events")).toHaveText("43 events", {
    timeout: 5_000,
  });
  await expect(page.getByTestId("session-flags")).toHaveText("1 flag");
  await expect(page.getByTestId("session-cost")).not.toHaveText(
    costBefore ?? "",
  );
  await expect(page.getByTestId("session-tokens")).not.toHaveText(
    tokensBefore ?? "",
  );
  await expect(page.getByTestId("timeline-loaded")).toHaveText(
    "43 of 43 events loaded",
  );
  // The late child sits in time order, under its span.
  await expect(row("late check")).toHaveAttribute("data-index", "5");
  await expect(row("late check").locator('[title="depth 1"]')).toBeVisible();
  await expect(
    page.getByTestId("session-chain").getByText("chain verified"),
  ).toHaveAttribute("title", "All 43 events match their hash links");
  expect(
    await page.evaluate(
      () => (window as unknown as { liveMark?: number }).liveMark,
    ),
  ).toBe(1);

  // The reader's choice and place stay: the chosen event is still open,
  // and the view did not jump to the new rows but counts them.
  await expect(detail).toContainText("step 3");
  await expect(row("step 3")).toHaveAttribute("aria-selected", "true");
  const newEvents = page.getByTestId("new-events");
  await expect(newEvents).toHaveText("2 new events ↓");
  await newEvents.click();
  await expect.poll(() => inView("export key")).toBe(true);
  await expect(row("export key")).toContainText("1 flag");
  await expect(newEvents).toHaveCount(0);
});

test("a reader at the bottom follows new rows", async ({ request }) => {
  api = agentApi(request, token);
  await body().evaluate((element) => {
    element.scrollTop = element.scrollHeight;
  });
  await report([event(FIRST + 3, { name: "wrap up" })]);

  await expect(page.getByTestId("session-events")).toHaveText("44 events", {
    timeout: 5_000,
  });
  await expect.poll(() => inView("wrap up")).toBe(true);
  await expect(page.getByTestId("new-events")).toHaveCount(0);
});

test("a row added above the view leaves the view where it was", async ({
  request,
}) => {
  api = agentApi(request, token);
  await body().evaluate((element) => {
    element.scrollTop = 20 * 34;
  });
  await expect.poll(() => inView("step 22")).toBe(true);
  const topBefore = await row("step 22").evaluate(
    (element) => element.getBoundingClientRect().top,
  );
  await report([
    event(FIRST + 4, {
      name: "early note",
      time: new Date(start + 1_500).toISOString(),
      parentSpanId: "span-0",
      toolName: undefined,
      type: "message",
    }),
  ]);

  await expect(page.getByTestId("session-events")).toHaveText("45 events", {
    timeout: 5_000,
  });
  await expect(page.getByTestId("new-events")).toHaveText("1 new event ↑");
  const topAfter = await row("step 22").evaluate(
    (element) => element.getBoundingClientRect().top,
  );
  expect(topAfter).toBe(topBefore);
});

test("a long session read in pages stays live without repeating rows", async ({
  request,
}) => {
  test.setTimeout(180_000);
  api = agentApi(request, token);
  const LONG = 2_000;
  const longEvent = (i: number, extra: Record<string, unknown> = {}) =>
    event(i, { id: `long-${i}`, sessionId: "long-run", ...extra });
  for (let from = 0; from < LONG; from += 500) {
    await report(
      Array.from({ length: 500 }, (_, k) =>
        longEvent(from + k, { sessionTitle: "Long run" }),
      ),
    );
  }
  await page.goto(`/projects/${project}/sessions`);
  await page
    .getByRole("table", { name: "Sessions" })
    .getByRole("link", { name: "Long run" })
    .click();
  const loaded = page.getByTestId("timeline-loaded");
  await expect(loaded).toHaveText(/ of 2,000 events loaded$/);

  // One event after every row loaded so far, one among them.
  await report([
    longEvent(LONG, { name: "final step" }),
    longEvent(LONG + 1, {
      name: "early insight",
      time: new Date(start + 2_500).toISOString(),
      parentSpanId: "span-0",
      toolName: undefined,
      type: "message",
    }),
  ]);
  await expect(page.getByTestId("session-events")).toHaveText("2,002 events", {
    timeout: 5_000,
  });
  await expect(loaded).toHaveText(/ of 2,002 events loaded$/);
  await expect(row("early insight")).toHaveAttribute("data-index", "3");
  // The later one waits for its page rather than jump ahead of it.
  await expect(row("final step")).toHaveCount(0);

  // Reading on to the end brings the later one exactly once.
  const lastRow = row("final step");
  while ((await lastRow.count()) === 0) {
    const before = await loaded.textContent();
    await body().evaluate((element) => {
      element.scrollTop = element.scrollHeight;
    });
    await expect
      .poll(async () =>
        (await lastRow.count()) > 0 ? "done" : await loaded.textContent(),
      )
      .not.toBe(before);
  }
  await expect(loaded).toHaveText("2,002 of 2,002 events loaded");
  await expect(lastRow).toHaveCount(1);
  await expect(lastRow).toHaveAttribute("data-index", "2001");
});
