// Document status: canonical, stale, duplicate or superseded, each with the
// reason a person reads in the console. Pure: the indexer loads the
// documents of one source, calls classifyDocuments and stores the result.

export const documentStatuses = [
  "canonical",
  "stale",
  "duplicate",
  "superseded",
] as const;
export type DocumentStatus = (typeof documentStatuses)[number];

/** What an operator pinned in the console; it beats every other rule. */
export type StatusOverride = "canonical" | "stale";

export interface ClassifiedInput {
  id: string;
  path: string;
  /** "" when the source is not versioned. */
  version: string;
  title: string;
  frontMatter: Record<string, unknown> | null;
  /** MinHash signature of the text (see textSignature); may be empty. */
  signature: number[];
  /** Last change of the file; the newer of two duplicates is canonical. */
  modifiedAt: Date;
  override: StatusOverride | null;
  overrideReason: string | null;
}

export interface Classification {
  status: DocumentStatus;
  reason: string | null;
  /** The current document this one is a copy of, when there is one. */
  canonicalId: string | null;
}

/** Documents at least this similar within one version are duplicates. */
export const duplicateThreshold = 0.9;
/** An older document this similar to a current one, with nothing better
 * to go on, is taken as its older copy. */
const versionMatchThreshold = 0.5;
/** Texts shorter than this many shingles are too short to call
 * duplicates: generated stubs share nearly all of their few words. */
const minShinglesForDuplicate = 40;

const SIGNATURE_SIZE = 128;
const SHINGLE_WORDS = 5;

// ---------------------------------------------------------------- paths

/** What a path names, whatever the release's folder layout: numeric
 * prefixes ("01-app"), extensions and index files are dropped. */
export function normalisePath(filePath: string): string {
  const segments = filePath
    .toLowerCase()
    .replace(/\.(md|mdx|markdown)$/, "")
    .split("/")
    .map((segment) => segment.replace(/^\d+[-_.]/, ""))
    .filter(Boolean);
  if (segments.length > 1 && segments[segments.length - 1] === "index") {
    segments.pop();
  }

  return segments.join("/");
}

const lastSegment = (normalised: string) =>
  normalised.slice(normalised.lastIndexOf("/") + 1);

// ------------------------------------------------------------- versions

/** Orders versions numerically part by part ("16.10.0" after "16.2.0");
 * "" (unversioned) sorts first. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[^0-9a-z]+/i).filter(Boolean);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }

  return 0;
}

// ----------------------------------------------------------- similarity

function hashString(text: string): number {
  // FNV-1a, 32 bits.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }

  return hash >>> 0;
}

function mix(value: number, seed: number): number {
  // A cheap avalanche (murmur3's finaliser) per signature slot.
  let h = (value ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);

  return (h ^ (h >>> 16)) >>> 0;
}

const seeds = Array.from({ length: SIGNATURE_SIZE }, (_, i) =>
  hashString(`slot-${i}`),
);

/** MinHash over 5-word shingles of the text (comments, case and
 * punctuation dropped). Two signatures agree in a share of slots that estimates the
 * texts' Jaccard similarity. Empty when the text is too short to judge. */
export function textSignature(text: string): number[] {
  const words = text
    // Comments are boilerplate ("DO NOT EDIT, generated from ..."), not
    // what a document says; left in, every generated stub would match.
    .replace(/\{\/\*[\s\S]*?\*\/\}/g, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter(Boolean);
  const shingles = new Set<number>();
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) {
    shingles.add(hashString(words.slice(i, i + SHINGLE_WORDS).join(" ")));
  }
  if (shingles.size < minShinglesForDuplicate) return [];
  const signature = new Array<number>(SIGNATURE_SIZE).fill(0xffffffff);
  for (const shingle of shingles) {
    for (let slot = 0; slot < SIGNATURE_SIZE; slot++) {
      const value = mix(shingle, seeds[slot]);
      if (value < signature[slot]) signature[slot] = value;
    }
  }

  return signature;
}

/** Estimated similarity of two texts, 0..1; 0 when either is too short. */
export function similarity(a: number[], b: number[]): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;

  return same / a.length;
}

// ------------------------------------------------------- classification

function declaredStatus(
  frontMatter: Record<string, unknown> | null,
): Classification | null {
  if (!frontMatter) return null;
  const supersededBy = frontMatter.superseded_by;
  if (typeof supersededBy === "string" && supersededBy.trim()) {
    return {
      status: "superseded",
      reason: `superseded by ${supersededBy.trim()} (front matter)`,
      canonicalId: null,
    };
  }
  if (frontMatter.deprecated === true || frontMatter.deprecated === "true") {
    return {
      status: "stale",
      reason: "deprecated: true in front matter",
      canonicalId: null,
    };
  }
  const declared = frontMatter.status;
  if (typeof declared === "string") {
    const value = declared.trim().toLowerCase();
    const known = (documentStatuses as readonly string[]).includes(value);
    // "deprecated" and "obsolete" are common spellings of stale.
    const status: DocumentStatus | null = known
      ? (value as DocumentStatus)
      : ["deprecated", "obsolete", "archived"].includes(value)
        ? "stale"
        : null;
    if (status) {
      return {
        status,
        reason: `status: ${declared.trim()} in front matter`,
        canonicalId: null,
      };
    }
  }

  return null;
}

/** Finds the current document an older one is a copy of: the same
 * normalised path; else the same name or title, the most similar text
 * deciding between several; else a clearly similar text. */
function matchCurrent(
  older: ClassifiedInput,
  current: ClassifiedInput[],
  byPath: Map<string, ClassifiedInput>,
): ClassifiedInput | null {
  const normalised = normalisePath(older.path);
  const exact = byPath.get(normalised);
  if (exact) return exact;
  const name = lastSegment(normalised);
  const title = older.title.trim().toLowerCase();
  const named = current.filter(
    (doc) =>
      lastSegment(normalisePath(doc.path)) === name ||
      (title !== "" && doc.title.trim().toLowerCase() === title),
  );
  const mostSimilar = (docs: ClassifiedInput[]) => {
    let best: ClassifiedInput | null = null;
    let bestScore = -1;
    for (const doc of docs) {
      const score = similarity(older.signature, doc.signature);
      if (score > bestScore) {
        best = doc;
        bestScore = score;
      }
    }

    return { best, bestScore };
  };
  if (named.length === 1) return named[0];
  if (named.length > 1) return mostSimilar(named).best;
  if (older.signature.length === 0) return null;
  const { best, bestScore } = mostSimilar(current);

  return bestScore >= versionMatchThreshold ? best : null;
}

/** The status of every document of one source. Rules, strongest first:
 * an operator's override; front matter (superseded_by, deprecated,
 * status); versions (only the newest is current, older copies are stale);
 * near-duplicates within the current version (the newer is canonical). */
export function classifyDocuments(
  docs: ClassifiedInput[],
): Map<string, Classification> {
  const result = new Map<string, Classification>();
  const newest = docs
    .map((d) => d.version)
    .reduce<string | null>(
      (a, v) => (a === null || compareVersions(v, a) > 0 ? v : a),
      null,
    );
  const current = docs.filter((d) => d.version === newest);
  const byPath = new Map(current.map((d) => [normalisePath(d.path), d]));

  const versionRule = (doc: ClassifiedInput): Classification | null => {
    if (doc.version === newest) return null;
    const label = doc.version || "(unversioned)";
    const match = matchCurrent(doc, current, byPath);

    return match
      ? {
          status: "stale",
          reason: `older version ${label} of ${match.path}`,
          canonicalId: match.id,
        }
      : {
          status: "stale",
          reason: `only in older version ${label}`,
          canonicalId: null,
        };
  };

  // Near-duplicates among current documents that no stronger rule placed.
  const duplicateOf = new Map<string, Classification>();
  const candidates = current
    .filter((d) => !d.override && !declaredStatus(d.frontMatter))
    .filter((d) => d.signature.length > 0)
    // Newest first (then path order), so each pair's newer one is seen
    // first and stays canonical.
    .sort(
      (a, b) =>
        b.modifiedAt.getTime() - a.modifiedAt.getTime() ||
        (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
  const kept: ClassifiedInput[] = [];
  for (const doc of candidates) {
    let best: { doc: ClassifiedInput; score: number } | null = null;
    for (const other of kept) {
      const score = similarity(doc.signature, other.signature);
      if (score >= duplicateThreshold && (!best || score > best.score)) {
        best = { doc: other, score };
      }
    }
    if (best) {
      duplicateOf.set(doc.id, {
        status: "duplicate",
        reason: `${Math.round(best.score * 100)}% similar to ${best.doc.path}`,
        canonicalId: best.doc.id,
      });
    } else {
      kept.push(doc);
    }
  }

  for (const doc of docs) {
    const overridden: Classification | null = doc.override
      ? {
          status: doc.override,
          reason:
            doc.overrideReason ??
            (doc.override === "canonical"
              ? "pinned canonical by an operator"
              : "marked stale by an operator"),
          canonicalId: null,
        }
      : null;
    result.set(
      doc.id,
      overridden ??
        declaredStatus(doc.frontMatter) ??
        versionRule(doc) ??
        duplicateOf.get(doc.id) ?? {
          status: "canonical",
          reason: null,
          canonicalId: null,
        },
    );
  }

  return result;
}
