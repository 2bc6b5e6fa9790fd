import { getAuth } from "@/server/identity/auth";

async function handler(request: Request) {
  const auth = await getAuth();

  return auth.handler(request);
}

export { handler as GET, handler as POST };
