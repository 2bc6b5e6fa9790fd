import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { projects } from "@/db/schema";
import { notify } from "@/server/guardrails/notify";
import type { Flag } from "./flags";

// Critical red flags reach people: the first critical finding of a rule in
// a session raises one notification; later ones in that session are on the
// session page. Ingest calls this in its transaction, after the flags are
// stored.

export async function notifyCriticalFlags(
  tx: Database,
  values: {
    projectId: string;
    agentName: string;
    stored: { id: string; sessionId: string }[];
    flags: Map<string, Flag[]>;
  },
): Promise<number> {
  const firsts = new Map<
    string,
    { sessionId: string; eventId: string; flag: Flag }
  >();
  for (const event of values.stored) {
    for (const flag of values.flags.get(event.id) ?? []) {
      if (flag.severity !== "critical") continue;
      const key = `${event.sessionId}\u0000${flag.rule}`;
      if (!firsts.has(key)) {
        firsts.set(key, {
          sessionId: event.sessionId,
          eventId: event.id,
          flag,
        });
      }
    }
  }
  if (firsts.size === 0) return 0;
  const [project] = await tx
    .select({ slug: projects.slug })
    .from(projects)
    .where(eq(projects.id, values.projectId));
  let raised = 0;
  for (const { sessionId, eventId, flag } of firsts.values()) {
    const notification = await notify(tx, {
      projectId: values.projectId,
      kind: "red_flag",
      severity: "critical",
      title: `Critical red flag ${flag.rule} from ${values.agentName}`,
      body: flag.excerpt,
      link: project
        ? `/projects/${project.slug}/sessions/${sessionId}`
        : undefined,
      details: { sessionId, eventId, rule: flag.rule, agent: values.agentName },
      dedupeKey: `red_flag:${sessionId}:${flag.rule}`,
    });
    if (notification) raised++;
  }

  return raised;
}
