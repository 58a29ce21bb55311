export const generatedPath: string;
export function generateValidators(): string;
export function writeValidators(): void;
