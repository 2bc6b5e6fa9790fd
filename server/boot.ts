import { getDatabase } from "@/db/runtime";
import { config } from "./config";
import { logger } from "./log";

/** Start-up work for the console process. */
export async function startServer(): Promise<void> {
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
