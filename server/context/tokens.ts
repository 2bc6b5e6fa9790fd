import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";

// Token counts use the o200k encoding (GPT-4o and later). Other models
// tokenise differently, but one fixed real tokenizer keeps served and
// baseline counts comparable with each other.

// Documents may quote special-token text such as "<|endoftext|>"; count it
// as ordinary text instead of refusing the document.
const asPlainText = { disallowedSpecial: new Set<string>() };

export function countTokens(text: string): number {
  if (text.length === 0) return 0;

  return countO200k(text, asPlainText);
}
