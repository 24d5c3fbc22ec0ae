// API errors as the console shows them: next to the field they name when they name one.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The JSON path the message starts with (`script_params[0].param_value`), if any. */
  readonly field: string | null;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = fieldOf(message);
  }
}

/** Our errors name the offending field first: `properties.version: must be at most 10 characters`. */
export function fieldOf(message: string): string | null {
  const match = /^([A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?)*): /.exec(message);
  return match ? match[1] : null;
}

/** The error for `field` (or one under it), for a form to show beside that input. */
export function errorFor(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError) || !error.field) return undefined;
  const named = error.field;
  return named === field || named.startsWith(field + ".") || named.startsWith(field + "[") ? error.message : undefined;
}

/** The message of an error no field of the form shows. */
export function generalError(error: unknown, fields: string[]): string | undefined {
  if (!error) return undefined;
  if (error instanceof ApiError && fields.some((field) => errorFor(error, field))) return undefined;
  return error instanceof Error ? error.message : String(error);
}
