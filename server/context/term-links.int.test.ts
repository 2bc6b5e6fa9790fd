import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, type DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeProject } from "@/tests/fixtures";
import { answerQuestion } from "./answer";
import { indexDocuments } from "./indexer";
import { rebuildTermLinks } from "./term-links";

// Words the corpus relates: the indexer learns that the bodies under
// "favicon" headings keep saying "icon", so a question about the site's
// icon reaches a favicon section whose own text never says "icon"; and a
// question the documents cannot answer stays unanswered although its
// words are linked to a heading.

const cli: Actor = { kind: "cli", label: "cli:test" };

const corpus = {
  "files/favicon.md": `# Favicon

## Favicon file

Put favicon.ico at the root of the app folder.

## Favicon sizes

Browsers draw the icon in the tab at 16 or 32 pixels.

## Favicon formats

The icon may be an ico, png or svg file; browsers pick the tab icon by
its size.
`,
  "files/root-folder.md": `# Project structure

## Top-level layout

The root folder holds the app folder, the public folder and the config
files; keep the root folder small.

## Public folder

Static files such as robots.txt are served from the public folder.
`,
  "guide/themes.md": `# Themes

## Colors

Pick colors for buttons and links.

## Dark mode

Follow the system setting with a media query.
`,
  "guide/forms.md": `# Forms

## Validation

Check each field on the server before saving.

## Pending state

Disable the submit button while the form is sending.
`,
  "guide/fonts.md": `# Fonts

## Local fonts

Load a woff2 file with a src path.

## Variable fonts

Variable fonts hold every weight in one file.
`,
};

describe.each(testKinds)("learned term links on %s", (kind) => {
  let handle: DatabaseHandle;
  let slug: string;
  let projectId: string;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
    const project = await makeProject(handle.db);
    slug = project.slug;
    projectId = project.id;
    await indexDocuments(handle.db, cli, {
      project: slug,
      source: "docs",
      files: Object.entries(corpus).map(([path, content]) => ({
        path,
        content,
      })),
    });
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  const ask = (q: string) =>
    answerQuestion(handle.db, cli, { project: slug, q });
  const links = () =>
    queryRows<{ term: string; related: string; sections: number }>(
      handle.db,
      sql`select term, related, sections from context_term_links
           where project_id = ${projectId} and source = 'docs'`,
    );

  it("learns heading words from the bodies under them when indexing", async () => {
    const found = await links();
    expect(found).toContainEqual({
      term: "favicon",
      related: "icon",
      sections: 2,
    });
    // A body word seen under a heading word once is no link.
    expect(found.some((l) => l.related === "woff2")).toBe(false);
  });

  it("reaches a section through a linked heading word", async () => {
    // The favicon section says "root" and "folder" but never "icon";
    // without the link, the page whose path names the root folder
    // answers.
    const q = "icon in the root folder";
    expect(await ask(q)).toMatchObject({
      answered: true,
      path: "files/favicon.md",
      heading: "Favicon file",
    });

    await handle.db.execute(
      sql`delete from context_term_links where project_id = ${projectId}`,
    );
    const unlinked = await ask(q);
    expect(unlinked).toMatchObject({
      answered: true,
      path: "files/root-folder.md",
      heading: "Top-level layout",
    });

    expect(await rebuildTermLinks(handle.db, projectId, "docs")).toBe(
      (await links()).length,
    );
    expect(await ask(q)).toMatchObject({ heading: "Favicon file" });
  });

  it("leaves a question the documents cannot answer unanswered", async () => {
    // "icon" points at the favicon headings and lifts them to the top,
    // but the question's own words cover too little of any section
    // (each is in a different one); the linked word adds to the ranking,
    // never to the share a section must cover to be served.
    const answer = await ask("icon weight buttons");
    expect(answer.answered).toBe(false);
    if (answer.answered) return;
    expect(answer.reason).toMatch(/matches \d+% of the question's weight/);
    expect(answer.alternatives[0]).toMatchObject({
      path: "files/favicon.md",
      heading: "Favicon formats",
    });
  });
});
