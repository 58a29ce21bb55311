// Types of scripts/help-text.mjs, for the tests that read help texts with it.
export interface HelpItem {
  term: string;
  description: string;
}
export interface CommanderHelp {
  usage: string;
  description: string;
  sections: Record<string, HelpItem[] | undefined>;
}
export function parseCommanderHelp(text: string): CommanderHelp;
export function optionNames(term: string): { names: string[]; takesValue: boolean };
export function usageOptions(text: string): { name: string; takesValue: boolean }[];
