// Placeholder until the hook lands (issue 5).
export {};
