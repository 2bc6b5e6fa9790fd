import { toErrorResponse } from "@/server/api/http";
import { getAuth } from "@/server/identity/auth";

// Sign-in, sign-out and session endpoints of better-auth.
async function handler(request: Request) {
  try {
    const auth = await getAuth();

    return await auth.handler(request);
  } catch (error) {
    return toErrorResponse(error);
  }
}

export { handler as GET, handler as POST };
