import { getDatabase } from "@/db/runtime";
import { config } from "./config";
import { loadThesaurus } from "./context/thesaurus";
import { logger } from "./log";
import { startAppLeaseSweeper } from "./orchestration/sweeper";
import { startAppWebhookWorker } from "./guardrails/webhook-worker";
import { startAppRetention } from "./observability/retention";

/** Start-up work for the console process. */
export async function startServer(): Promise<void> {
  // Returns expired leases to ready (or fails them) every few seconds; the
  // returned handle's stop() ends it.
  startAppLeaseSweeper({
    database: async () => (await getDatabase()).db,
    onError: (err) => logger.warn({ err }, "lease sweep failed"),
  });
  // Sends queued webhook deliveries beside the sweeper; its own loop, so a
  // slow receiver never holds up the lease sweep.
  startAppWebhookWorker({
    database: async () => (await getDatabase()).db,
    onError: (err) => logger.warn({ err }, "webhook delivery pass failed"),
  });
  // Drops raw events and rollups past each project's retention, hourly.
  startAppRetention({
    database: async () => (await getDatabase()).db,
    onError: (err) => logger.warn({ err }, "retention pass failed"),
  });
  // The synonyms' word lists (tens of megabytes), read before a question
  // needs them.
  loadThesaurus().catch((err) =>
    logger.warn({ err }, "thesaurus could not be read"),
  );
  const settings = config();
  try {
    const handle = await getDatabase();
    logger.info(
      { database: handle.kind, location: handle.location },
      "database ready",
    );
  } catch (error) {
    // The console still starts; /api/health answers 503 until the database
    // can be reached.
    logger.error({ err: error, url: settings.baseUrl }, "database not ready");
  }
}
