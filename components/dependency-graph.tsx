// A layered dependency graph drawn as SVG: one column per layer, arrows from
// a task to the tasks waiting for it. Layers and rows come from the server
// (server/orchestration/goal-graph.ts); this only places and paints them.

export interface DependencyGraphNode {
  id: string;
  title: string;
  status: string;
  layer: number;
  row: number;
}

export interface DependencyGraphEdge {
  from: string;
  to: string;
}

const NODE_WIDTH = 210;
const NODE_HEIGHT = 46;
const LAYER_GAP = 70;
const ROW_GAP = 16;
const PADDING = 12;
// About what fits in a node at 13px bold; the full title is in the tooltip.
const TITLE_CHARS = 24;

// Fill, border and text per task status; unknown statuses are grey.
const statusColours: Record<string, { fill: string; stroke: string }> = {
  draft: { fill: "#f2f4f7", stroke: "#98a2b3" },
  ready: { fill: "#e8eefc", stroke: "#2451d6" },
  claimed: { fill: "#fff4e0", stroke: "#a86400" },
  in_progress: { fill: "#fff4e0", stroke: "#a86400" },
  in_review: { fill: "#f3e8fd", stroke: "#7a3fc0" },
  blocked: { fill: "#fdecea", stroke: "#c0352b" },
  done: { fill: "#e6f5ec", stroke: "#1d7a46" },
  failed: { fill: "#fdecea", stroke: "#c0352b" },
  cancelled: { fill: "#f2f4f7", stroke: "#98a2b3" },
};

function shorten(text: string): string {
  return text.length > TITLE_CHARS
    ? `${text.slice(0, TITLE_CHARS - 1)}…`
    : text;
}

export function DependencyGraph(props: {
  nodes: DependencyGraphNode[];
  edges: DependencyGraphEdge[];
  statusLabel: (status: string) => string;
  href: (taskId: string) => string;
}) {
  const layers = Math.max(0, ...props.nodes.map((n) => n.layer + 1));
  const rows = Math.max(0, ...props.nodes.map((n) => n.row + 1));
  const width = PADDING * 2 + layers * NODE_WIDTH + (layers - 1) * LAYER_GAP;
  const height = PADDING * 2 + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP;
  const at = new Map(
    props.nodes.map((node) => [
      node.id,
      {
        x: PADDING + node.layer * (NODE_WIDTH + LAYER_GAP),
        y: PADDING + node.row * (NODE_HEIGHT + ROW_GAP),
      },
    ]),
  );

  return (
    <svg
      role="img"
      aria-label="Task dependency graph"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      style={{ maxWidth: "none", display: "block" }}
    >
      <defs>
        <marker
          id="dependency-arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#667085" />
        </marker>
      </defs>
      {props.edges.map((edge) => {
        const from = at.get(edge.from);
        const to = at.get(edge.to);
        if (!from || !to) return null;
        const x1 = from.x + NODE_WIDTH;
        const y1 = from.y + NODE_HEIGHT / 2;
        const x2 = to.x - 2;
        const y2 = to.y + NODE_HEIGHT / 2;
        const bend = Math.max(24, (x2 - x1) / 2);

        return (
          <path
            key={`${edge.from}-${edge.to}`}
            data-edge={`${edge.from}->${edge.to}`}
            d={`M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`}
            fill="none"
            stroke="#667085"
            strokeWidth={1.4}
            markerEnd="url(#dependency-arrow)"
          />
        );
      })}
      {props.nodes.map((node) => {
        const place = at.get(node.id);
        if (!place) return null;
        const colour = statusColours[node.status] ?? statusColours.draft;

        return (
          <a
            key={node.id}
            href={props.href(node.id)}
            data-task={node.id}
            data-status={node.status}
          >
            <title>{`${node.title} (${props.statusLabel(node.status)})`}</title>
            <rect
              x={place.x}
              y={place.y}
              width={NODE_WIDTH}
              height={NODE_HEIGHT}
              rx={7}
              fill={colour.fill}
              stroke={colour.stroke}
              strokeWidth={1.5}
            />
            <text
              x={place.x + 10}
              y={place.y + 19}
              fontSize={13}
              fontWeight={600}
              fill="#1c2230"
            >
              {shorten(node.title)}
            </text>
            <text
              x={place.x + 10}
              y={place.y + 36}
              fontSize={11}
              fill={colour.stroke}
            >
              {props.statusLabel(node.status)}
            </text>
          </a>
        );
      })}
    </svg>
  );
}
