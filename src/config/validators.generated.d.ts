// Types of the generated standalone validators (see generate-validators.mjs).
export interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}
export interface Validator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}
export declare const validateConfig: Validator;
export declare const validateJournal: Validator;
