import type { Database } from "@/db/client";

// Background loops that run in every app instance (the lease sweeper, the
// webhook worker): a pass every `intervalMs`, never two at once, a failed
// pass reported and retried on the next tick, and one loop per process
// however often start-up code runs.

export interface PeriodicHandle {
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` until stopped. `database` is asked on each
 * tick, so a database that comes up late is used once it is there. A tick
 * that comes while a pass still runs is skipped. `stopped` tells a long pass
 * that `stop()` was called.
 */
export function startPeriodic(options: {
  database: () => Promise<Database>;
  intervalMs: number;
  onError?: (error: unknown) => void;
  pass: (db: Database, stopped: () => boolean) => Promise<void>;
}): PeriodicHandle {
  let running: Promise<void> | null = null;
  let stopped = false;
  const isStopped = () => stopped;
  const tick = () => {
    if (stopped || running) return;
    running = (async () => {
      try {
        await options.pass(await options.database(), isStopped);
      } catch (error) {
        options.onError?.(error);
      } finally {
        running = null;
      }
    })();
  };
  const timer = setInterval(tick, options.intervalMs);
  // The loop alone must not keep a process (or a test run) alive.
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Starts a loop once per process under `name` (dev reloads modules, so a
 * module-level flag would not do); later calls get the running one. Its
 * `stop()` forgets it, so the next call starts afresh. */
export function startOncePerProcess(
  name: string,
  start: () => PeriodicHandle,
): PeriodicHandle {
  const key = Symbol.for(name);
  const holder = globalThis as { [key: symbol]: PeriodicHandle | undefined };
  const running = holder[key];
  if (running) return running;
  const started = start();
  const handle: PeriodicHandle = {
    async stop() {
      if (holder[key] === handle) delete holder[key];
      await started.stop();
    },
  };
  holder[key] = handle;

  return handle;
}
