import { refuseOtherMethods } from "@/server/api/http";
import { getDatabase } from "@/db/runtime";
import { checkHealth } from "@/server/health";
import { logger } from "@/server/log";

export const dynamic = "force-dynamic";

const TIMEOUT_MS = 3000;

export async function GET() {
  try {
    const handle = await getDatabase();
    const health = await Promise.race([
      checkHealth(handle),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("timed out")), TIMEOUT_MS),
      ),
    ]);

    return Response.json(health);
  } catch (error) {
    logger.error({ err: error }, "health check failed");

    return Response.json(
      {
        status: "unavailable",
        error: {
          code: "unavailable",
          message: `Database unreachable: ${(error as Error).message}`,
          details: null,
        },
      },
      { status: 503 },
    );
  }
}

// Any other method: 405 with the usual error body and an Allow header.
export const { POST, PUT, PATCH, DELETE, OPTIONS } = refuseOtherMethods({
  GET,
});
