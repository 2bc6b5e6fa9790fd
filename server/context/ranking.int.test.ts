import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { contextDocuments, contextLookups } from "@/db/schema";
import { GET as contextRoute } from "@/app/api/agent/v1/context/route";
import type { Actor } from "@/server/identity/actor";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { answerQuestion, answerThresholds, type ContextAnswer } from "./answer";
import { setDocumentStatus } from "./classify";
import { latentLimits } from "./latent";
import { indexDocuments } from "./indexer";

// Ranking on small fixed corpora: a heading outranks the same word in a
// body, a misspelt name still finds its section, a newer release outranks
// an older copy, a weak partial match is no answer; and the three tiers.

const cli: Actor = { kind: "cli", label: "cli:test" };

const corpus = {
  "guide/streaming.md": `# Rendering

Pages render on the server.

## Streaming

Send parts of the page to the browser as soon as they are ready, so
the visitor sees the layout first.
`,
  "guide/loading.md": `# Loading UI

## loading.js

A loading file shows a fallback while the segment below it is streaming
and its data is fetched.
`,
  "api/revalidate-tag.md": `# revalidateTag

Purges cached data on demand.

## Parameters

revalidateTag takes the tag to purge and an optional cache profile.
`,
  "api/fonts.md": `# Fonts

## Local fonts

Load a woff2 file with next/font/local and a src path.

## Variable fonts

Variable fonts hold every weight in one file.
`,
  "api/images.md": `# Images

## Remote patterns

Allow remote hosts with images.remotePatterns; lazy loading is on by
default for every picture.
`,
};

// A reference page whose sections nest three deep, for choosing between
// a section and the subsection under it.
const nested = {
  "api/metadata.md": `# Metadata

Export a metadata object from a page or layout.

## Fields

Every field is optional.

### \`robots\`

Tells search engines whether they may index the page and follow its
links. Set index to false to keep one page out of search results.

#### Robots fields

The robots object accepts index, follow, nocache and googleBot fields;
each becomes a directive in the robots meta tag that search engines
read before indexing a page.

### \`openGraph\`

Title and images shown when a page is shared on social networks.
`,
  "guides/migrating.md": `# Migrating from pages

Move one route at a time.

## Migrating data fetching

In the pages directory getServerSideProps and getStaticProps fetch data.
Their replacement in the app directory: a Server Component fetches data
itself, fresh on every request or cached until revalidated.

### Server-side rendering (\`getServerSideProps\`)

getServerSideProps fetched data on the server for each request. In the
app directory a Server Component calls fetch with the no-store option.

### Static generation (\`getStaticProps\`)

getStaticProps ran at build time; fetch caches by default instead.
`,
  "guides/layouts.md": `# Layouts

Share UI between routes.

## Nesting layouts

Layouts nest by folder, and each wraps the pages below it.
`,
};

// Upgrade guides and product names: a reference page and an upgrade guide
// that both name cacheTag, and sections that name Sentry and Cypress.
const namedCorpus = {
  "api/cache-tag.md": `# cacheTag

## Tagging data

Call cacheTag inside a cached function to tag its data, then purge the
tag on demand.
`,
  "guides/upgrading/version-9.md": `# Upgrading to version 9

## \`cacheTag\`

cacheTag now tags the data of a cached function; purge the tag on
demand as before.
`,
  "guides/monitoring.md": `# Monitoring

## Error reporting

Error reporting tools such as Sentry or Bugsnag load their client early.
`,
  "guides/source-maps.md": `# Source maps

## Disabling source maps

Turn off browser source maps during the build to save memory.
`,
  "guides/plugins.md": `# Plugins

## Loading plugins

Plugins load at build time and configure the build.
`,
  "guides/testing.md": `# Testing

## Component tests

Mount one component in isolation and assert what it renders, without a
running server.

## Cypress component tests

With Cypress, mount one component and assert what it renders.
`,
  "guides/deploying.md": `# Deploying

## Servers

Run the server behind a proxy.
`,
};

const releaseText = (note: string) => `# Deploying

## Standalone output

Set output to standalone to copy only the files a server needs into a
folder you can ship in a container. ${note}
`;

const answered = (result: unknown): ContextAnswer => {
  expect(result).toMatchObject({ answered: true });

  return result as ContextAnswer;
};

describe.each(testKinds)("context ranking on %s", (kind) => {
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

  const ask = (q: string, extra: { includeStale?: boolean } = {}) =>
    answerQuestion(handle.db, cli, { project: slug, q, ...extra });

  it("ranks a section whose heading names the word above one whose body does", async () => {
    const answer = answered(await ask("streaming"));
    expect(answer).toMatchObject({
      path: "guide/streaming.md",
      heading: "Streaming",
    });
    expect(answer.alternatives[0]).toMatchObject({ path: "guide/loading.md" });
  });

  it("finds a misspelt name through trigram similarity to a heading", async () => {
    const answer = answered(await ask("revalidatTag parameters"));
    expect(answer).toMatchObject({
      path: "api/revalidate-tag.md",
      heading: "Parameters",
    });
    // The answer says how it read the word.
    expect(answer.readAs).toEqual([
      { word: "revalidatTag", as: "revalidateTag", why: "spelling" },
    ]);
    // A question read as written says nothing of the kind.
    expect(answered(await ask("revalidateTag parameters")).readAs).toEqual([]);
  });

  it("still says no answer for a word that resembles no heading", async () => {
    const answer = await ask("kafka consumer groups");
    expect(answer).toMatchObject({ answered: false });
  });

  it("says no answer to a weak partial match, with the nearest pointers", async () => {
    const answer = await ask(
      "lazy variable woff2 streaming revalidateTag remotePatterns",
    );
    expect(answer.answered).toBe(false);
    if (answer.answered) return;
    expect(answer.reason).toMatch(/matches \d+% of the question's weight/);
    expect(answer.alternatives.length).toBeGreaterThan(0);
    expect(answer.alternatives[0]).toMatchObject({
      path: expect.any(String),
      line: expect.any(Number),
      headingPath: expect.any(String),
    });
    expect(answer.alternatives[0]).not.toHaveProperty("text");
  });

  it("ranks a newer release above an older copy of the same document", async () => {
    const release = await makeProject(handle.db);
    for (const version of ["1.0", "2.0"]) {
      await indexDocuments(handle.db, cli, {
        project: release.slug,
        source: "docs",
        version,
        files: [{ path: "deploy.md", content: releaseText("") }],
      });
    }
    const question = "standalone output container";
    const stale = answered(
      await answerQuestion(handle.db, cli, {
        project: release.slug,
        q: question,
        includeStale: true,
      }),
    );
    expect(stale).toMatchObject({ version: "2.0", status: "canonical" });
    expect(stale.alternatives[0]).toMatchObject({
      version: "1.0",
      status: "stale",
    });

    // Pinned canonical, the older copy loses its status penalty; the
    // version weight alone still puts the newer release first.
    const [older] = await handle.db
      .select({ id: contextDocuments.id })
      .from(contextDocuments)
      .where(
        and(
          eq(contextDocuments.projectId, release.id),
          eq(contextDocuments.version, "1.0"),
        ),
      );
    await setDocumentStatus(handle.db, cli, {
      project: release.slug,
      documentId: older.id,
      status: "canonical",
    });
    const both = answered(
      await answerQuestion(handle.db, cli, {
        project: release.slug,
        q: question,
      }),
    );
    expect(both).toMatchObject({ version: "2.0" });
    expect(both.alternatives[0]).toMatchObject({
      version: "1.0",
      status: "canonical",
    });
    expect(both.alternatives[0].score).toBeLessThan(both.score);
  });

  /** A project of its own holding the given files; returns an asker. */
  const corpusProject = async (files: Record<string, string>) => {
    const project = await makeProject(handle.db);
    await indexDocuments(handle.db, cli, {
      project: project.slug,
      files: Object.entries(files).map(([path, content]) => ({
        path,
        content,
      })),
    });

    return (q: string) =>
      answerQuestion(handle.db, cli, { project: project.slug, q });
  };

  /** The feature question gets the feature's page, with the other kind's
   * document next; the question asking for that kind gets it. */
  const expectKindYields = async (
    ask: (q: string) => Promise<unknown>,
    c: {
      feature: string;
      featureAt: { path: string; heading: string };
      kind: string;
      kindAt: { path: string; heading: string };
    },
  ) => {
    const feature = answered(await ask(c.feature));
    expect(feature).toMatchObject(c.featureAt);
    expect(feature.alternatives[0]).toMatchObject({ path: c.kindAt.path });
    expect(answered(await ask(c.kind))).toMatchObject(c.kindAt);
  };

  it("prefers a feature's own page to an upgrade guide that repeats its name, unless asked about upgrading", async () => {
    const ask = await corpusProject(namedCorpus);
    await expectKindYields(ask, {
      feature: "tag the data of a cached function with cacheTag",
      featureAt: { path: "api/cache-tag.md", heading: "Tagging data" },
      kind: "upgrading to version 9: what about cacheTag",
      kindAt: { path: "guides/upgrading/version-9.md", heading: "`cacheTag`" },
    });
  });

  it("prefers a feature's own page to an error explanation, unless the question reports an error", async () => {
    const ask = await corpusProject({
      "api/image-hosts.md": `# Image hosts

## Allowed hosts

List the remote hosts that images may load from in remotePatterns.
`,
      "messages/unconfigured-host.md": `# Unconfigured image host

## Why This Error Occurred

An image was loaded from a remote host that remotePatterns does not
list, so images from that host are refused.

## Allow remote image hosts

Add the remote host to remotePatterns to allow images from it.
`,
      "guides/deploying.md": `# Deploying

## Servers

Run the server behind a proxy.
`,
    });
    await expectKindYields(ask, {
      feature: "allow images from a remote host",
      featureAt: { path: "api/image-hosts.md", heading: "Allowed hosts" },
      kind: "images from my remote host are refused with an error",
      kindAt: {
        path: "messages/unconfigured-host.md",
        heading: "Why This Error Occurred",
      },
    });
  });

  it("prefers the larger of two mirrored folders unless the question names the smaller", async () => {
    const ask = await corpusProject({
      "app/routing/links.md": `# Linking

## Prefetching

Links prefetch the route in the background.
`,
      "app/routing/redirects.md": `# Redirects

## Redirecting

Send the visitor to another route.
`,
      "app/routing/errors.md": `# Errors

## Not found

Show a page for missing routes.
`,
      "pages/routing/links.md": `# Linking

## Prefetching links

Links prefetch the route in the background when the link is visible.
`,
      "pages/routing/redirects.md": `# Redirects

## Redirecting

Send the visitor to another route.
`,
    });
    const unscoped = answered(await ask("prefetch links in the background"));
    expect(unscoped).toMatchObject({ path: "app/routing/links.md" });
    expect(unscoped.alternatives[0]).toMatchObject({
      path: "pages/routing/links.md",
    });
    expect(
      answered(await ask("pages: prefetch links in the background")),
    ).toMatchObject({ path: "pages/routing/links.md" });
  });

  it("prefers the page titled with the function a question names to a page that mentions it more", async () => {
    const ask = await corpusProject({
      "api/redirect.md": `# redirect

## Behavior

redirect throws, so call it outside a try block. It sends a 307 status
code, or 303 See Other from a Server Action so that the browser follows
with a GET. It works in Server Components, Route Handlers and Server
Actions, and in Client Components while they render.
`,
      "api/permanent-redirect.md": `# permanentRedirect

## Behavior

permanentRedirect throws like redirect, so call it outside a try block:
a redirect in a try block is caught by its catch, and the try block
swallows the redirect. The redirect sends a 308 status code.
`,
    });
    expect(answered(await ask("redirect() in a try block"))).toMatchObject({
      path: "api/redirect.md",
      heading: "Behavior",
    });
  });

  it("answers from another folder when the question turns away from one", async () => {
    const ask = await corpusProject({
      "app/routing/route-handlers.md": `# Route handlers

## Convention

Create a route.js file in a folder to answer API requests at that
endpoint.
`,
      "pages/routing/api-routes.md": `# API routes

## Creating an endpoint

Create a file in pages/api: each file there is an API endpoint.
`,
      "pages/routing/links.md": `# Links

## Linking pages

Link between pages with the Link component.
`,
    });
    expect(answered(await ask("create an API endpoint"))).toMatchObject({
      path: "pages/routing/api-routes.md",
    });
    expect(
      answered(await ask("create an API endpoint, not pages/api")),
    ).toMatchObject({ path: "app/routing/route-handlers.md" });
  });

  it("serves the section headed with the member a question names (request.nextUrl)", async () => {
    const ask = await corpusProject({
      "api/next-request.md": `# NextRequest

## \`cookies\`

Read and write the cookies of the request.

## \`nextUrl\`

The properties it exposes are the parsed URL: pathname, searchParams,
and the locale when one is available.
`,
      "guides/backend.md": `# Backends

## NextRequest and NextResponse

NextRequest exposes request.nextUrl and cookies: the properties of
request.nextUrl available to a handler include the pathname and the
locale, as nextUrl.locale. NextResponse answers the request.
`,
    });
    expect(
      answered(
        await ask(
          "what properties does request.nextUrl expose, is nextUrl.locale available?",
        ),
      ),
    ).toMatchObject({ path: "api/next-request.md", heading: "`nextUrl`" });
  });

  it("does not let a joined pair that only a code sample uses pick the answer alone", async () => {
    // Sixty guides make "fetch" and "data" common words, so only rare
    // words pick candidates; "fetchdata" is rare because one code sample
    // names a function so.
    const guides = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [
        `guides/topic-${i}.md`,
        `# Topic ${i}\n\nFetch the data topic ${i} shows.\n`,
      ]),
    );
    const ask = await corpusProject({
      ...guides,
      "api/cache.md": `# Cache

## Parameters

Wrap a function: \`const cached = cache(fetchData)\`.
`,
      "getting-started/fetching-data.md": `# Fetching data

Fetch data in a server component with an async function.
`,
    });
    expect(answered(await ask("how do I fetch data"))).toMatchObject({
      path: "getting-started/fetching-data.md",
    });
  });

  it("answers a bare call from the page titled with it, not from a guide's heading that mentions it", async () => {
    const ask = await corpusProject({
      "api/cookies.md": `# cookies

cookies is an async function that reads the cookies of the request.

## Reference

It returns a store with get, set and delete.
`,
      "guides/mutating-data.md": `# Mutating data

## Cookies

Set cookies in a Server Action with cookies() from next/headers.
`,
    });
    expect(answered(await ask("cookies()"))).toMatchObject({
      path: "api/cookies.md",
    });
  });

  it("reads a misspelled word as the word of the text one edit away", async () => {
    const ask = await corpusProject({
      "api/matcher.md": `# Matcher

## Negative matching

Exclude paths from the proxy with a negative lookahead in the matcher.
`,
      "api/images.md": `# Images

## Sizes

Images come in several sizes.
`,
    });
    const answer = answered(await ask("matcher exlude paths"));
    expect(answer).toMatchObject({
      path: "api/matcher.md",
      heading: "Negative matching",
    });
    // Read as the stem of the text's word, marked as a stem.
    expect(answer.readAs).toEqual([
      { word: "exlude", as: "exclud…", why: "spelling" },
    ]);
  });

  it("finds an identifier's section from its words spelled out", async () => {
    const ask = await corpusProject({
      "api/vitals.md": `# Metrics

## \`useReportWebVitals\`

Call it in a client component to receive each metric as it is measured.
`,
      "guides/tracing.md": `# Tracing

## Using \`@vercel/otel\`

Install the package and register it in instrumentation.ts.

## Manual setup

Configure the exporter yourself.
`,
      "guides/deploying.md": `# Deploying

## Servers

Run the server behind a proxy and receive each request.
`,
    });
    expect(answered(await ask("report web vitals"))).toMatchObject({
      path: "api/vitals.md",
      heading: "`useReportWebVitals`",
    });
    expect(
      answered(await ask("tracing with the vercel otel package")),
    ).toMatchObject({
      path: "guides/tracing.md",
      heading: "Using `@vercel/otel`",
    });
  });

  it("does not take a short unknown word for a common heading word it resembles", async () => {
    const ask = await corpusProject({
      "guide/pages.md": `# Pages

## Page layout

A page renders inside the layouts above it.
`,
      "guide/rotation.md": `# Rotation

## Rotating keys

Rotate the signing keys every month.
`,
    });
    expect(await ask("pager rotation")).toMatchObject({
      answered: false,
      reason: 'No document mentions "pager"',
    });
  });

  it("serves the subsection under a heading that holds no text of its own", async () => {
    const ask = await corpusProject({
      "api/cache-tag.md": `# cacheTag

## Examples

### Tagging fetched data

Call cacheTag with a tag name inside a cached function.
`,
      "guide/other.md": `# Other

## Examples of layouts

Layouts wrap pages.
`,
    });
    expect(answered(await ask("cacheTag examples"))).toMatchObject({
      heading: "Tagging fetched data",
    });
  });

  it("says when only stale documents mention the words asked about", async () => {
    const ask = await corpusProject({
      "ops/deploy.md": `---
deprecated: true
---
# Deploying with Capistrano

## Running cap production deploy

Run cap production deploy from the release host.
`,
      "ops/current.md": `# Deploying

## Containers

Build an image and roll it out.
`,
    });
    const answer = await ask("capistrano");
    expect(answer).toMatchObject({ answered: false });
    if (answer.answered) return;
    expect(answer.reason).toBe(
      'No current document mentions "capistrano"; stale, duplicate or ' +
        'superseded ones mention "capistrano" (ask with include_stale to ' +
        "search them)",
    );
  });

  it("prefers a stable page to one its front matter declares experimental, unless asked", async () => {
    const ask = await corpusProject({
      "api/route.md": `# route.js

## CORS

Set CORS headers on the Response of a route handler, so that browsers
on other origins may read what it returns, naming the methods and the
origins allowed, and how long a browser may keep that answer.
`,
      "api/route-go.md": `---
version: experimental
---
# route.go

## CORS

This experimental Go route handler sets CORS headers on its response
writer for cross-origin requests; every route handler sets its own headers.
`,
      "guide/deploying.md": `# Deploying

## Servers

Run the server behind a proxy.
`,
    });
    await expectKindYields(ask, {
      feature: "route handler cors headers",
      featureAt: { path: "api/route.md", heading: "CORS" },
      kind: "experimental route handler cors headers",
      kindAt: { path: "api/route-go.md", heading: "CORS" },
    });
  });

  it("says no answer when the product a question names is mentioned only off the point", async () => {
    const ask = await corpusProject(namedCorpus);
    const answer = await ask(
      "configure Sentry to upload source maps during the build",
    );
    expect(answer).toMatchObject({ answered: false });
    if (answer.answered) return;
    expect(answer.reason).toBe(
      'No section that matches the question mentions "sentry"',
    );
    expect(answer.alternatives[0]).toMatchObject({
      path: "guides/source-maps.md",
    });

    const never = await ask("stream build logs to a Kafka topic");
    expect(never).toMatchObject({
      answered: false,
      reason: 'No document mentions "kafka"',
    });
  });

  it("serves the section that mentions the named product over a closer match that does not", async () => {
    const ask = await corpusProject(namedCorpus);
    const answer = answered(
      await ask(
        "mount one component in isolation with Cypress without a server",
      ),
    );
    expect(answer).toMatchObject({ heading: "Cypress component tests" });
    expect(answer.alternatives[0]).toMatchObject({
      heading: "Component tests",
    });
  });

  it("serves a section whose document names the product the question does, when no section near the top does", async () => {
    // "Docker" is only in the page's introduction; the section that
    // answers never repeats it.
    const ask = await corpusProject({
      "config/output.md": `# Output

Deploying with Docker used to mean installing every dependency in the
image.

## Copying traced files

The build traces the files a server needs and copies them into a
standalone folder, without the whole node_modules.
`,
      "guides/images.md": `# Images

## Building images

Resize images during the build.
`,
    });
    const answer = answered(
      await ask(
        "build a standalone server folder for a Docker image without node_modules",
      ),
    );
    expect(answer).toMatchObject({
      path: "config/output.md",
      heading: "Copying traced files",
    });
  });

  it("serves a long question's answer that matches fewer of its words than a short one must", async () => {
    // A long question spells out circumstances no section repeats: the
    // encryption key section matches "instances", "action" and "key",
    // under a third of the question's weight.
    const ask = await corpusProject({
      "guides/self-hosting.md": `# Self-hosting

## Encryption key

Give every instance the same key to share, so an action stays valid on
all of them.
`,
      "guides/balancing.md": `# Balancing

## Balancer

Put a balancer behind the firewall.
`,
      "guides/forms.md": `# Forms

## Submitting

Form submissions post to the server.
`,
      "guides/hosting.md": `# Hosting

## Copies

Run several copies of the server.
`,
      "guides/errors.md": `# Errors

## Missing files

The build may fail when a file is missing.
`,
    });
    const question =
      "several copies behind a balancer and a firewall: form submissions fail because the action is missing, which key do all instances share";
    const long = answered(await ask(question));
    expect(long).toMatchObject({
      path: "guides/self-hosting.md",
      heading: "Encryption key",
    });
    expect(long.coverage).toBeLessThan(answerThresholds.minCoverage);
    expect(long.coverage).toBeGreaterThanOrEqual(
      answerThresholds.minLongCoverage,
    );

    // A short question needs the full share: each of these words is in
    // a different section, so none matches more than about a quarter.
    const short = await ask("balancer copies missing submissions");
    expect(short).toMatchObject({ answered: false });
    if (short.answered) return;
    expect(short.reason).toMatch(
      /matches 2\d% of the question's weight; below 35% is no answer/,
    );
  });

  it("reads a word no document uses as its synonym that one does, but not a name", async () => {
    const ask = await corpusProject({
      "guides/fonts.md": `# Fonts

## Google fonts

Fonts from Google are downloaded at build time, so visitors never
contact Google.
`,
      "guides/analytics.md": `# Analytics

## Google Analytics

Send page views to Google Analytics.
`,
      "guides/rendering.md": `# Rendering

## Rendering a component

A component renders after a slight delay.
`,
    });
    const answer = answered(await ask("download a typeface from Google"));
    expect(answer).toMatchObject({
      path: "guides/fonts.md",
      heading: "Google fonts",
    });
    expect(answer.readAs).toEqual([
      { word: "typeface", as: "font", why: "synonym" },
    ]);

    // "Svelte" is a name the documents must contain, whatever its
    // synonyms as an adjective ("slight").
    expect(await ask("render a Svelte component")).toMatchObject({
      answered: false,
      reason: 'No document mentions "svelte"',
    });
  });

  it("breaks a near tie toward the section whose topic the question's other words share", async () => {
    // 420 generated sections on three topics, then two sections alike but
    // for their topic: the question's rare words ("download", "tables")
    // are in both, its other words ("glyph", "serif") in font sections
    // only. The purging one is shorter and says "download" twice, so it
    // matches better word for word; the latent space of the sections'
    // topics puts the question among the font sections.
    const topics = {
      fonts: ["font", "glyph", "serif", "italic", "kerning", "typeset"],
      caching: ["cache", "purge", "stale", "expiry", "revalidate", "evict"],
      routing: ["route", "segment", "slug", "param", "redirect", "rewrite"],
    };
    const files: Record<string, string> = {};
    for (const [topic, words] of Object.entries(topics)) {
      for (let d = 0; d < 20; d++) {
        const sectionsText = Array.from({ length: 7 }, (_, i) => {
          const n = d * 7 + i;
          const picked = [0, 1, 2, 3].map((j) => words[(n + j) % words.length]);

          return `## ${topic} note ${n}\n\n${picked.join(" ")} apply here.\n`;
        });
        files[`${topic}/${d}.md`] =
          `# ${topic} ${d}\n\n${sectionsText.join("\n")}`;
      }
    }
    files["fonts/typesetting.md"] = `# Typesetting

## Downloading

Download the italic kerning tables once the italic styles and every kerning
pair of the family are set.
`;
    files["caching/purging.md"] = `# Purging

## Downloading

Download the purge tables; download again.
`;
    const dims = latentLimits.dims;
    latentLimits.dims = 3;
    try {
      const ask = await corpusProject(files);
      const answer = answered(await ask("download tables for glyph serif"));
      expect(answer).toMatchObject({
        path: "fonts/typesetting.md",
        heading: "Downloading",
      });
      expect(answer.alternatives[0]).toMatchObject({
        path: "caching/purging.md",
      });
    } finally {
      latentLimits.dims = dims;
    }
  }, 60_000);

  it("answers from a document indexed after a question it could not answer", async () => {
    // Word counts are kept between lookups; a new document must not be
    // hidden behind counts taken before it existed.
    const later = await makeProject(handle.db);
    const askLater = () =>
      answerQuestion(handle.db, cli, {
        project: later.slug,
        q: "kafka consumer groups",
      });
    await indexDocuments(handle.db, cli, {
      project: later.slug,
      files: [{ path: "fonts.md", content: corpus["api/fonts.md"] }],
    });
    expect(await askLater()).toMatchObject({ answered: false });

    await indexDocuments(handle.db, cli, {
      project: later.slug,
      files: [
        {
          path: "queues.md",
          content:
            "# Queues\n\n## Kafka consumer groups\n\nEach consumer group " +
            "reads every partition once.\n",
        },
      ],
    });
    expect(await askLater()).toMatchObject({
      answered: true,
      path: "queues.md",
      heading: "Kafka consumer groups",
    });
  });

  it("serves a pointer, a section or a whole document, and logs each tier", async () => {
    const { actor } = await makeAgent(handle.db, projectId);
    const q = "load a woff2 file with next/font/local";
    const section = answered(
      await answerQuestion(handle.db, actor, { project: slug, q }),
    );
    expect(section).toMatchObject({
      tier: "section",
      path: "api/fonts.md",
      heading: "Local fonts",
    });
    expect(section.text).toContain("woff2");
    expect(section.text).not.toContain("Variable fonts hold");
    expect(section.tokens).toBe(section.sectionTokens);
    expect(section.servedTokens).toBe(section.tokens);
    expect(section.tokens).toBeLessThan(section.documentTokens);

    const pointer = answered(
      await answerQuestion(handle.db, actor, {
        project: slug,
        q,
        tier: "pointer",
      }),
    );
    expect(pointer).toMatchObject({
      tier: "pointer",
      path: "api/fonts.md",
      line: section.line,
      text: "",
      tokens: 0,
    });
    expect(pointer.servedTokens).toBeGreaterThan(0);
    expect(pointer.servedTokens).toBeLessThan(section.sectionTokens);

    const document = answered(
      await answerQuestion(handle.db, actor, {
        project: slug,
        q,
        tier: "document",
      }),
    );
    expect(document).toMatchObject({
      tier: "document",
      heading: "Local fonts",
      tokens: section.documentTokens,
    });
    expect(document.text).toContain("## Local fonts");
    expect(document.text).toContain("Variable fonts hold every weight");

    // The top-three baseline: the whole texts of the best three distinct
    // documents, at least the served one's.
    expect(section.top3Tokens).toBeGreaterThanOrEqual(section.documentTokens);

    const logged = await handle.db
      .select()
      .from(contextLookups)
      .where(eq(contextLookups.agentId, actor.agentId))
      .orderBy(contextLookups.id);
    expect(
      logged.map((row) => ({
        tier: row.tier,
        served: row.servedTokens,
        document: row.documentTokens,
        top3: row.top3Tokens,
        status: row.servedStatus,
      })),
    ).toEqual([
      {
        tier: "section",
        served: section.tokens,
        document: section.documentTokens,
        top3: section.top3Tokens,
        status: "canonical",
      },
      {
        tier: "pointer",
        served: pointer.servedTokens,
        document: section.documentTokens,
        top3: section.top3Tokens,
        status: "canonical",
      },
      {
        tier: "document",
        served: section.documentTokens,
        document: section.documentTokens,
        top3: section.top3Tokens,
        status: "canonical",
      },
    ]);
  });

  describe("between a section and a subsection of it", () => {
    let nestedSlug: string;
    const askNested = async (q: string) =>
      answered(
        await answerQuestion(handle.db, cli, { project: nestedSlug, q }),
      );

    beforeAll(async () => {
      nestedSlug = (await makeProject(handle.db)).slug;
      await indexDocuments(handle.db, cli, {
        project: nestedSlug,
        files: Object.entries(nested).map(([path, content]) => ({
          path,
          content,
        })),
      });
    });

    it("serves the section when the subsection's heading adds nothing asked", async () => {
      // "Robots fields" holds more of the question's words, but the
      // question asks about robots, not about its list of fields.
      const answer = await askNested(
        "keep search engines from indexing a page with the robots meta tag",
      );
      expect(answer).toMatchObject({
        path: "api/metadata.md",
        heading: "`robots`",
      });
      expect(answer.alternatives.map((a) => a.heading)).toContain(
        "Robots fields",
      );
    });

    it("serves the subsection when its heading names what was asked", async () => {
      const answer = await askNested(
        "which fields does the robots object accept?",
      );
      expect(answer).toMatchObject({ heading: "Robots fields" });
    });

    it("serves the subsection whose heading names the question's identifier", async () => {
      const answer = await askNested(
        "what replaces getServerSideProps to fetch fresh data on every request",
      );
      expect(answer).toMatchObject({
        path: "guides/migrating.md",
        heading: "Server-side rendering (`getServerSideProps`)",
      });
    });
  });

  it("takes the tier through the agent API and refuses an unknown one", async () => {
    const { secret } = await makeAgent(handle.db, projectId);
    const call = async (query: string) => {
      const response = await contextRoute(
        new Request(`http://test/api/agent/v1/context?${query}`, {
          headers: { authorization: `Bearer ${secret}` },
        }),
        { params: Promise.resolve({}) },
      );

      return {
        status: response.status,
        body: (await response.json()) as Record<string, unknown>,
      };
    };
    const pointer = await call("q=variable%20fonts&tier=pointer");
    expect(pointer).toMatchObject({
      status: 200,
      body: { answered: true, tier: "pointer", text: "", path: "api/fonts.md" },
    });
    const wrong = await call("q=variable%20fonts&tier=everything");
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({
      error: {
        code: "invalid_input",
        details: [expect.objectContaining({ path: "tier" })],
      },
    });
  });
});
