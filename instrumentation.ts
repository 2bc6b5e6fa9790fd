// Runs once when the server starts: opens (and migrates) the database so
// the first request does not pay for it, and fails loudly on bad settings.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startServer } = await import("./server/boot");
  await startServer();
}
