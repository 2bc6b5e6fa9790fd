// A small seeded random source (mulberry32), so a simulation with the same
// seed makes the same choices. Each simulated agent draws from its own
// stream, so one agent's choices do not depend on how the others' requests
// happened to interleave.

export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** `count` distinct items, in a random order. */
  sample<T>(items: readonly T[], count: number): T[];
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);

    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) =>
    min + Math.floor(next() * (max - min + 1));

  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    sample(items, count) {
      const pool = [...items];
      for (let i = pool.length - 1; i > 0; i--) {
        const j = int(0, i);
        [pool[i], pool[j]] = [pool[j], pool[i]];
      }

      return pool.slice(0, Math.max(0, count));
    },
  };
}

/** The seed of one agent's stream: the run's seed mixed with its number. */
export function agentSeed(seed: number, agentNumber: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 31) + agentNumber * 0x85ebca6b) >>> 0;
}
