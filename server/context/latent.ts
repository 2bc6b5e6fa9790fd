import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database } from "@/db/client";

// What the sections are about, beyond their exact words: latent semantic
// analysis of the servable sections. Each section is a row of TF-IDF
// weights over the words of its search vector (heading words counted
// double); a truncated singular value decomposition of that matrix puts
// sections and words in one space of a few hundred dimensions, where
// words used in the same sections sit close ("title", "template",
// "suffix") even when a question and the section that answers it share
// few words. A question is placed there by the sum of its words'
// vectors, weighed as the ranking weighs them, and a candidate section
// gains by how close it sits (./answer.ts).
//
// The decomposition is the randomized range finder with two power
// iterations: a few passes over the sparse matrix and a small dense
// eigenproblem. It is computed from the database on the first lookup of a
// set of servable documents and kept in memory while they are unchanged
// (the same fingerprint as the word counts, ./term-stats.ts). A large set
// is computed in the background, and lookups go without it until it is
// ready; a small one is computed before the lookup answers.

export interface LatentSpace {
  dims: number;
  /** Section id to its coordinates (the section's row of U·S). */
  sections: Map<string, Float32Array>;
  /** Lexeme to its coordinates (its row of V), for placing questions. */
  words: Map<string, Float32Array>;
}

/** A section's words: lexeme, occurrences, and whether its heading has it. */
export interface SectionWords {
  id: string;
  lexemes: string[];
  counts: number[];
  heading: boolean[];
}

export const latentLimits = {
  /** Dimensions kept (fewer when there are few sections). */
  dims: 150,
  /** Sections below which there is no space: too few to tell topics. */
  minSections: 400,
  /** Sections from which the space is computed in the background. */
  backgroundSections: 1500,
  /** A word counts in at least this many sections, and at most this
   * share of them. */
  minFrequency: 2,
  maxShare: 0.5,
  /** Weight of a heading word against a body word. */
  headingWeight: 2,
};

/** Lets other work (requests) run between slices of the computation,
 * which takes seconds for thousands of sections. */
const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Rows of a matrix product computed between pauses. */
const SLICE_ROWS = 256;

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32), so the
 * same documents give the same space. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);

    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** Orthonormal columns for the n-by-k row-major matrix `m`, in place
 * (modified Gram-Schmidt on a column-major copy). */
async function orthonormalise(
  m: Float64Array,
  n: number,
  k: number,
): Promise<void> {
  const columns = Array.from({ length: k }, (_, j) => {
    const column = new Float64Array(n);
    for (let i = 0; i < n; i++) column[i] = m[i * k + j];

    return column;
  });
  for (let j = 0; j < k; j++) {
    if (j % 8 === 0) await pause();
    const column = columns[j];
    for (let p = 0; p < j; p++) {
      const other = columns[p];
      let dot = 0;
      for (let i = 0; i < n; i++) dot += column[i] * other[i];
      for (let i = 0; i < n; i++) column[i] -= dot * other[i];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += column[i] * column[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) column[i] = norm > 1e-12 ? column[i] / norm : 0;
  }
  for (let j = 0; j < k; j++) {
    const column = columns[j];
    for (let i = 0; i < n; i++) m[i * k + j] = column[i];
  }
}

/** Eigenvalues and eigenvectors (columns of a row-major matrix) of the
 * symmetric k-by-k matrix `a`, by cyclic Jacobi rotations; `a` is
 * overwritten. */
async function symmetricEigen(
  a: Float64Array,
  k: number,
): Promise<{ values: number[]; vectors: Float64Array }> {
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  const rotate = (
    m: Float64Array,
    x: number,
    y: number,
    c: number,
    s: number,
  ) => {
    const mx = m[x];
    const my = m[y];
    m[x] = c * mx - s * my;
    m[y] = s * mx + c * my;
  };
  for (let sweep = 0; sweep < 50; sweep++) {
    await pause();
    let off = 0;
    let total = 0;
    for (let p = 0; p < k; p++) {
      for (let q = 0; q < k; q++) {
        total += a[p * k + q] ** 2;
        if (p !== q) off += a[p * k + q] ** 2;
      }
    }
    if (off <= 1e-24 * total) break;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (apq === 0) continue;
        const theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        const t =
          (theta >= 0 ? 1 : -1) /
          (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) rotate(a, r * k + p, r * k + q, c, s);
        for (let r = 0; r < k; r++) rotate(a, p * k + r, q * k + r, c, s);
        for (let r = 0; r < k; r++) rotate(v, r * k + p, r * k + q, c, s);
      }
    }
  }

  return {
    values: Array.from({ length: k }, (_, i) => a[i * k + i]),
    vectors: v,
  };
}

/** The latent space of these sections; null when there are too few. */
export async function buildLatentSpace(
  sections: SectionWords[],
  limits = latentLimits,
): Promise<LatentSpace | null> {
  const n = sections.length;
  if (n < limits.minSections) return null;
  const frequency = new Map<string, number>();
  for (const section of sections) {
    for (const lexeme of new Set(section.lexemes)) {
      frequency.set(lexeme, (frequency.get(lexeme) ?? 0) + 1);
    }
  }
  const termOf = new Map<string, number>();
  const terms: string[] = [];
  for (const [lexeme, count] of frequency) {
    if (
      count >= limits.minFrequency &&
      count <= n * limits.maxShare &&
      /^\p{L}[\p{L}\p{N}_]*$/u.test(lexeme)
    ) {
      termOf.set(lexeme, terms.length);
      terms.push(lexeme);
    }
  }
  const m = terms.length;
  const k = Math.min(limits.dims, Math.floor(n / 4), m);
  if (k < 2) return null;
  const l = k + 10;

  // The matrix, sparse by rows, each row of unit length.
  const rowStart = new Int32Array(n + 1);
  const columns: number[] = [];
  const values: number[] = [];
  sections.forEach((section, i) => {
    const start = values.length;
    const seen = new Set<number>();
    section.lexemes.forEach((lexeme, e) => {
      const t = termOf.get(lexeme);
      if (t === undefined || seen.has(t)) return;
      seen.add(t);
      const idf = Math.log(n / frequency.get(lexeme)!);
      const tf = 1 + Math.log(Math.max(1, section.counts[e]));
      columns.push(t);
      values.push(tf * idf * (section.heading[e] ? limits.headingWeight : 1));
    });
    let norm = 0;
    for (let e = start; e < values.length; e++) norm += values[e] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let e = start; e < values.length; e++) values[e] /= norm;
    rowStart[i + 1] = values.length;
  });
  const cols = Int32Array.from(columns);
  const vals = Float64Array.from(values);
  /** A (n×m) times a row-major m×l matrix. */
  const times = async (right: Float64Array) => {
    const out = new Float64Array(n * l);
    for (let i = 0; i < n; i++) {
      if (i % SLICE_ROWS === 0) await pause();
      for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
        const w = vals[e];
        const from = cols[e] * l;
        const to = i * l;
        for (let j = 0; j < l; j++) out[to + j] += w * right[from + j];
      }
    }

    return out;
  };
  /** Aᵀ (m×n) times a row-major n×l matrix. */
  const transposeTimes = async (left: Float64Array) => {
    const out = new Float64Array(m * l);
    for (let i = 0; i < n; i++) {
      if (i % SLICE_ROWS === 0) await pause();
      for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
        const w = vals[e];
        const to = cols[e] * l;
        const from = i * l;
        for (let j = 0; j < l; j++) out[to + j] += w * left[from + j];
      }
    }

    return out;
  };

  // Q: an orthonormal basis for the range of A, from random directions
  // sharpened by two power iterations.
  const random = randomSource(0x5eed);
  const start = new Float64Array(m * l);
  for (let i = 0; i < start.length; i++) start[i] = random();
  let q = await times(start);
  await orthonormalise(q, n, l);
  for (let iteration = 0; iteration < 2; iteration++) {
    const back = await transposeTimes(q);
    await orthonormalise(back, m, l);
    q = await times(back);
    await orthonormalise(q, n, l);
  }
  // B = QᵀA, kept as Bᵀ (m×l); the eigenvectors of B·Bᵀ are B's left
  // singular vectors, its eigenvalues their squared singular values.
  const bt = await transposeTimes(q);
  const gram = new Float64Array(l * l);
  for (let t = 0; t < m; t++) {
    if (t % SLICE_ROWS === 0) await pause();
    const row = t * l;
    for (let p = 0; p < l; p++) {
      const x = bt[row + p];
      if (x === 0) continue;
      for (let r = 0; r < l; r++) gram[p * l + r] += x * bt[row + r];
    }
  }
  const eigen = await symmetricEigen(gram, l);
  const kept = eigen.values
    .map((value, index) => ({ value, index }))
    .sort((a, b) => b.value - a.value)
    .slice(0, k)
    .filter((e) => e.value > 1e-12);
  const dims = kept.length;
  if (dims < 2) return null;

  // A word's vector is its row of V = Bᵀ·U_b·S⁻¹; a section's is its row
  // of Q·U_b·S (= A·V). U_b's kept columns are copied out row by row, so
  // the products below read memory in order.
  const basis = new Float64Array(l * dims);
  kept.forEach(({ index }, d) => {
    for (let p = 0; p < l; p++)
      basis[p * dims + d] = eigen.vectors[p * l + index];
  });
  const project = async (
    matrix: Float64Array,
    rows: number,
    scale: Float64Array,
  ) => {
    const out: Float32Array[] = [];
    const sum = new Float64Array(dims);
    for (let row = 0; row < rows; row++) {
      if (row % SLICE_ROWS === 0) await pause();
      sum.fill(0);
      for (let p = 0; p < l; p++) {
        const x = matrix[row * l + p];
        if (x === 0) continue;
        const base = p * dims;
        for (let d = 0; d < dims; d++) sum[d] += x * basis[base + d];
      }
      const vector = new Float32Array(dims);
      for (let d = 0; d < dims; d++) vector[d] = sum[d] * scale[d];
      out.push(vector);
    }

    return out;
  };
  const singular = kept.map(({ value }) => Math.sqrt(value));
  const wordVectors = await project(
    bt,
    m,
    Float64Array.from(singular, (s) => 1 / s),
  );
  const sectionRows = await project(q, n, Float64Array.from(singular));
  const words = new Map(terms.map((term, t) => [term, wordVectors[t]]));
  const sectionVectors = new Map(
    sections.map((section, i) => [section.id, sectionRows[i]]),
  );

  return { dims, sections: sectionVectors, words };
}

/** The cosine of two vectors; 0 when either is zero. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }

  return aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : 0;
}

/** Where a question sits: the sum of its lexemes' vectors, each weighed. */
export function placeQuestion(
  space: LatentSpace,
  lexemes: Array<{ lexeme: string; weight: number }>,
): Float32Array {
  const point = new Float32Array(space.dims);
  for (const { lexeme, weight } of lexemes) {
    const vector = space.words.get(lexeme);
    if (!vector) continue;
    for (let d = 0; d < space.dims; d++) point[d] += weight * vector[d];
  }

  return point;
}

/** The words of the servable sections, in the documents' order. */
export async function sectionWords(
  db: Database,
  projectId: string,
  servable: SQL,
): Promise<SectionWords[]> {
  const rows = await queryRows<{
    id: string;
    lexemes: string[];
    counts: number[];
    heading: boolean[];
  }>(
    db,
    // In the documents' own order (source, version, path, line), not by
    // id: ids differ from one index to the next, and the order decides
    // which random direction each word starts from.
    sql`select s.id,
               array_agg(u.lexeme order by u.lexeme) as lexemes,
               array_agg(coalesce(array_length(u.positions, 1), 1)
                 order by u.lexeme) as counts,
               array_agg('A' = any(u.weights) order by u.lexeme) as heading
          from context_sections s
          join context_documents d on d.id = s.document_id
          cross join lateral unnest(s.search) as u
         where s.project_id = ${projectId}
           and d.project_id = ${projectId} and ${servable}
         group by s.id, d.source, d.version, d.path, s.line
         order by d.source, d.version, d.path, s.line, s.id`,
  );

  return rows.map((row) => ({
    id: row.id,
    lexemes: row.lexemes,
    counts: row.counts.map(Number),
    heading: row.heading.map((h) => h === true || String(h) === "t"),
  }));
}

interface Entry {
  fingerprint: string;
  space: LatentSpace | null;
  building: Promise<LatentSpace | null> | null;
}

/** Spaces kept; the oldest goes when there are more. */
const MAX_SPACES = 8;
const spaces = new Map<string, Entry>();

/** The latent space of a set of servable documents in the state
 * `fingerprint` names, or null while it is being computed in the
 * background (or the set is too small to have one). */
export async function latentSpace(
  db: Database,
  projectId: string,
  servable: { where: SQL; key: string },
  fingerprint: string,
  sectionCount: number,
): Promise<LatentSpace | null> {
  if (sectionCount < latentLimits.minSections) return null;
  const key = `${projectId}\u0000${servable.key}`;
  const entry = spaces.get(key);
  if (entry && entry.fingerprint === fingerprint) {
    return entry.building && sectionCount < latentLimits.backgroundSections
      ? entry.building
      : entry.space;
  }
  const fresh: Entry = { fingerprint, space: null, building: null };
  fresh.building = sectionWords(db, projectId, servable.where)
    .then((sections) => buildLatentSpace(sections))
    .then(
      (space) => {
        fresh.space = space;
        fresh.building = null;

        return space;
      },
      () => {
        // A failed computation (a database hiccup) is tried again on the
        // next lookup; this one goes without.
        if (spaces.get(key) === fresh) spaces.delete(key);

        return null;
      },
    );
  spaces.delete(key);
  spaces.set(key, fresh);
  if (spaces.size > MAX_SPACES) {
    spaces.delete(spaces.keys().next().value as string);
  }

  return sectionCount < latentLimits.backgroundSections ? fresh.building : null;
}

/** Waits for every space being computed (the eval asks its questions of
 * a ready index). */
export async function latentSpacesReady(): Promise<void> {
  await Promise.all(
    [...spaces.values()].flatMap((entry) =>
      entry.building ? [entry.building] : [],
    ),
  );
}
