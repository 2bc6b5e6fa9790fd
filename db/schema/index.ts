export * from "./identity";
export * from "./orchestration";
export * from "./context";
export * from "./observability";
export * from "./guardrails";
