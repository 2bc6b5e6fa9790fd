// The context domain: documents indexed into sections, and answers.
export * from "./answer";
export * from "./documents";
export * from "./indexer";
export * from "./notes";
export * from "./read";
export * from "./savings";
export * from "./settings";
export { sectionMarkdown, type MarkdownSection } from "./sectioner";
export * from "./classify";
export {
  classifyDocuments,
  documentStatuses,
  normalisePath,
  type DocumentStatus,
} from "./status";
