import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { useDatabase } from "@/db/runtime";
import { contextLookups } from "@/db/schema";
import { openTestDatabase, testKinds } from "@/tests/db";
import { makeAgent, makeProject } from "@/tests/fixtures";
import { answerQuestion } from "./answer";
import { patchNoteSection, writeNote } from "./notes";

// A section can be replaced between the moment a lookup ranks it and the
// moment the lookup is written to the ledger (a note patched, its source
// re-indexed). The lookup still answers, from the section's current text,
// and its ledger row keeps no link to the section that is gone.

describe.each(testKinds)("lookups while sections change on %s", (kind) => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase(kind);
    useDatabase(handle);
  });
  afterAll(async () => {
    useDatabase(null);
    await handle.close();
  });

  it("answers every lookup while the section it serves is patched", async () => {
    const project = await makeProject(handle.db);
    const { actor } = await makeAgent(handle.db, project.id);
    const { document } = await writeNote(handle.db, actor, {
      project: project.slug,
      kind: "runbook",
      topic: "platypus-care",
      title: "Platypus care",
      body: "## Feeding platypus\n\nFeed the platypus shrimp at dawn.",
    });
    const rounds = 30;
    const lookups = Array.from({ length: rounds }, () =>
      answerQuestion(handle.db, actor, {
        project: project.slug,
        q: "feeding the platypus",
      }),
    );
    const patches = Array.from({ length: rounds }, (_, i) =>
      patchNoteSection(handle.db, actor, {
        project: project.slug,
        documentId: document.id,
        heading: "Feeding platypus",
        body: `Feed the platypus shrimp at dawn, round ${i}.`,
      }),
    );
    const settled = await Promise.allSettled([...lookups, ...patches]);
    const failed = settled.filter((s) => s.status === "rejected");
    expect(failed).toEqual([]);
    for (const s of settled.slice(0, rounds)) {
      const answer = (s as PromiseFulfilledResult<unknown>).value;
      expect(answer).toMatchObject({
        answered: true,
        heading: "Feeding platypus",
        text: expect.stringContaining("Feed the platypus shrimp at dawn"),
      });
    }
    const ledger = await handle.db
      .select({ id: contextLookups.id })
      .from(contextLookups)
      .where(eq(contextLookups.projectId, project.id));
    expect(ledger).toHaveLength(rounds);
  });
});
