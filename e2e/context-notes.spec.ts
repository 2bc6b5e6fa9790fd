import { expect, test, type Page } from "@playwright/test";
import {
  createAgentToken,
  ensureProject,
  openHydrated,
  signIn,
} from "./support";

// An operator reads what agents wrote back, and uploads markdown, through
// the Context pages: deleted notes neither count nor show as canonical,
// the counts follow the filter, a refused restore says which document is
// canonical now, and the upload form keeps its source and version.

test.describe.configure({ mode: "serial" });

const run = Math.random().toString(36).slice(2, 8);
const project = `notes-${run}`;
let page: Page;
let token = "";

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await signIn(page);
  await ensureProject(page, project);
  token = await createAgentToken(page, project, `scribe-${run}`);
});

test.afterAll(async () => {
  await page.close();
});

test("a deleted note does not count or show as canonical, and restore explains a refusal", async ({
  request,
}) => {
  const headers = { authorization: `Bearer ${token}` };
  const write = async (data: Record<string, string>) => {
    const response = await request.post("/api/agent/v1/context/docs", {
      headers,
      data: { topic: "deploy-rollbacks", ...data },
    });
    expect(response.status()).toBe(201);

    return (await response.json()).document.id as string;
  };
  const d1 = await write({
    kind: "runbook",
    title: "Rollbacks",
    body: "Roll back with the deploy tool.",
  });
  const d2 = await write({
    kind: "decision",
    title: "Rollbacks, decided",
    body: "Roll back from the console.",
    supersedes: "deploy-rollbacks",
  });
  const deleted = await request.delete(`/api/agent/v1/context/docs/${d2}`, {
    headers,
  });
  expect(deleted.status()).toBe(200);
  const d3 = await write({
    kind: "note",
    title: "Rollbacks, now",
    body: "Rollbacks happen by themselves.",
  });

  await page.goto(`/projects/${project}/context`);
  const counts = page.getByLabel("Documents per status");
  await expect(
    counts.getByRole("button", { name: "canonical 1" }),
  ).toBeVisible();
  await expect(counts.getByText("deleted 1")).toBeVisible();
  await expect(page.getByLabel("Documents shown")).toHaveText("3 documents");
  await counts.getByRole("button", { name: "superseded 1" }).click();
  await expect(page.getByLabel("Documents shown")).toHaveText(
    "1 of 3 documents",
  );

  await page.goto(`/projects/${project}/context/${d1}`);
  const document = page.getByRole("region", { name: "Document" });
  await expect(document).toContainText(
    "Superseded by notes/note/deploy-rollbacks.md",
  );
  await expect(
    document.getByRole("link", { name: "notes/note/deploy-rollbacks.md" }),
  ).toHaveAttribute("href", `/projects/${project}/context/${d3}`);
  await expect(
    page.getByRole("listitem").filter({ hasText: "version 2" }),
  ).toContainText("deleted");

  await page.goto(`/projects/${project}/context/${d2}`);
  await page.getByRole("button", { name: "Restore" }).click();
  const refusal = page.getByRole("alert").filter({ hasText: "Not restored" });
  await expect(refusal).toContainText("is the canonical document of topic");
  await expect(refusal).not.toContainText("supersedes:");
  await expect(
    refusal.getByRole("link", { name: "notes/note/deploy-rollbacks.md" }),
  ).toHaveAttribute("href", `/projects/${project}/context/${d3}`);
});

test("the upload form keeps its source and version for the next upload", async () => {
  await page.goto(`/projects/${project}/context`);
  const upload = page.getByRole("region", { name: "Upload markdown" });
  await upload.getByLabel("Source").fill("handbook");
  await upload.getByLabel("Version").fill("2.1");
  await upload.getByLabel("Markdown files").setInputFiles({
    name: "deploys.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Deploys\n\nShip on Tuesdays.\n"),
  });
  await upload.getByRole("button", { name: "Upload" }).click();
  await expect(upload.getByRole("status")).toContainText("Indexed 1 files");

  await expect(upload.getByLabel("Source")).toHaveValue("handbook");
  await expect(upload.getByLabel("Version")).toHaveValue("2.1");

  // A second upload goes to the same source and version.
  await upload.getByLabel("Markdown files").setInputFiles({
    name: "freezes.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Freezes\n\nNo deploys in December.\n"),
  });
  await upload.getByRole("button", { name: "Upload" }).click();
  await expect(upload.getByRole("status")).toContainText("Indexed 1 files");
  await page.getByLabel("Path or title").fill("freezes");
  await expect(page.getByRole("row", { name: /freezes\.md/ })).toContainText(
    "(handbook 2.1)",
  );

  // The audit log shows the source and version whole, not cut like a uuid.
  await page.goto(`/projects/${project}/audit?action=context.index`);
  await expect(page.getByRole("table", { name: "Audit log" })).toContainText(
    "context_source handbook@2.1",
  );
});

test("an upload names the files it skipped and why", async () => {
  await page.goto(`/projects/${project}/context`);
  const upload = page.getByRole("region", { name: "Upload markdown" });
  await upload.getByLabel("Markdown files").setInputFiles([
    {
      name: "oncall.md",
      mimeType: "text/markdown",
      buffer: Buffer.from("# On call\n\nHand over on Mondays.\n"),
    },
    {
      name: "broken.md",
      mimeType: "text/markdown",
      buffer: Buffer.from("# Broken\n\nA NUL \u0000 byte.\n"),
    },
  ]);
  await upload.getByRole("button", { name: "Upload" }).click();
  await expect(upload.getByRole("status")).toContainText("Indexed 1 files (");
  await expect(upload.getByRole("status")).toContainText("1 skipped");
  const problems = upload.getByRole("list", {
    name: "Files skipped or indexed with warnings",
  });
  await expect(problems).toContainText("Skipped broken.md");
});

test("an upload that fails part way says what went in and where it stopped", async () => {
  await openHydrated(page, `/projects/${project}/context`);
  const upload = page.getByRole("region", { name: "Upload markdown" });
  // The first batch of 100 files goes in; the second holds one file over
  // the size limit and is refused.
  const files = Array.from({ length: 100 }, (_, i) => ({
    name: `bulk-${String(i).padStart(3, "0")}.md`,
    mimeType: "text/markdown",
    buffer: Buffer.from(`# Bulk ${i}\n\nPage ${i} of the bulk upload.\n`),
  }));
  files.push({
    name: "huge.md",
    mimeType: "text/markdown",
    buffer: Buffer.from(`# Huge\n\n${"x".repeat(2_100_000)}\n`),
  });
  await upload.getByLabel("Markdown files").setInputFiles(files);
  await upload.getByRole("button", { name: "Upload" }).click();
  const status = upload.getByRole("status");
  await expect(status).toContainText("Indexed 100 files (");
  await expect(status).toContainText(
    "The upload stopped at file 101 of 101 (huge.md)",
  );
  // The refusal names the file it is about.
  await expect(upload.locator(".error")).toContainText("huge.md");
});

test("a method no route takes is refused with 405 and what the route takes", async ({
  request,
}) => {
  // TRACE never reaches a route handler (Next.js alone fails on it with a
  // 500); PROPFIND does, but no route file can export it.
  for (const method of ["TRACE", "PROPFIND"]) {
    const docs = await request.fetch("/api/agent/v1/context/docs", {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(docs.status()).toBe(405);
    expect(docs.headers()["allow"]).toBe("OPTIONS, POST");
    expect(await docs.json()).toEqual({
      error: {
        code: "method_not_allowed",
        message:
          `${method} is not allowed on /api/agent/v1/context/docs; ` +
          "it takes OPTIONS, POST",
        details: { allow: ["OPTIONS", "POST"] },
      },
    });
  }
  const health = await request.fetch("/api/health", { method: "TRACE" });
  expect(health.status()).toBe(405);
  expect(health.headers()["allow"]).toBe("GET, HEAD, OPTIONS");
  const context = await request.fetch(`/projects/${project}/context`, {
    method: "TRACE",
  });
  expect(context.status()).toBe(405);
  expect(context.headers()["allow"]).toBe("GET, HEAD, POST");
});
