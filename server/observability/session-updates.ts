import { z } from "zod";
import type { Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { parseInput } from "@/server/input";
import {
  findProjectSession,
  MAX_EVENT_PAGE,
  readArrivedEvents,
  type ArrivedEvent,
} from "./session-events";
import {
  readSessionHeader,
  type SessionDetail,
  type SessionSummary,
} from "./sessions";

// What changed in a session since a reader last looked: the events that
// arrived after a position in the session's hash chain (the order of
// arrival), with the session's totals and grade as of the last of them.
// A live session page asks for this every few seconds, so it reads only
// the new events and one session row, however long the session is.

/** Chain positions are 1-based counts of a session's events. */
const MAX_POSITION = 2_147_483_647;

export const sessionUpdatesInput = z.object({
  project: z.string().min(1),
  /** Flotilla's session id, or the id the client used for it. */
  sessionId: z.string().min(1).max(300),
  /** The position already seen: the `position` of the previous answer,
   * or of the session's first page. */
  after: z
    .number({ error: "Must be a chain position (a whole number)" })
    .int("Must be a whole number")
    .min(0, "Must be 0 or more")
    .max(MAX_POSITION, `Must be at most ${MAX_POSITION}`),
  limit: z.number().int().min(1).max(MAX_EVENT_PAGE).default(MAX_EVENT_PAGE),
});

export type SessionUpdatesInput = z.input<typeof sessionUpdatesInput>;

export interface SessionUpdates {
  /** Totals as of the session's last event (ahead of `position` while
   * `more` is true). */
  session: SessionSummary;
  grade: SessionDetail["grade"];
  /** Events after `after` up to `position`, in order of arrival. */
  events: ArrivedEvent[];
  /** Pass as `after` next time. */
  position: number;
  /** More events arrived than `limit`: ask again at once. */
  more: boolean;
}

export async function listSessionUpdates(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<SessionUpdates> {
  const {
    project: slug,
    sessionId,
    after,
    limit,
  } = parseInput(sessionUpdatesInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const found = await findProjectSession(db, project.id, sessionId);

  // The header first: the events read next stop at its chain length, so
  // the totals returned count exactly the events delivered so far.
  const { session, grade, chainLength } = await readSessionHeader(db, found.id);
  const arrived = await readArrivedEvents(
    db,
    { id: found.id, flagCount: session.flagCount },
    { after, through: chainLength, limit },
  );
  const last = arrived.events.at(-1);

  return {
    session,
    grade,
    events: arrived.events,
    position:
      arrived.more && last ? last.chainSeq : Math.max(after, chainLength),
    more: arrived.more,
  };
}
