/**
 * The one error type of Tether. Every failure that crosses a module boundary is an AppError with a code
 * from the closed table below; each transport (admin API, SCIM, jobs, CLI) maps codes exactly once.
 */
export const ERROR_CODES = {
  invalid_input: { status: 400, retryable: false, title: 'Invalid input' },
  invalid_filter: { status: 400, retryable: false, title: 'Invalid filter' },
  invalid_path: { status: 400, retryable: false, title: 'Invalid path' },
  invalid_value: { status: 400, retryable: false, title: 'Invalid value' },
  invalid_syntax: { status: 400, retryable: false, title: 'Invalid syntax' },
  no_target: { status: 400, retryable: false, title: 'Path matched nothing' },
  mutability: { status: 400, retryable: false, title: 'Attribute is not writable' },
  too_many: { status: 400, retryable: false, title: 'Too many results' },
  unauthenticated: { status: 401, retryable: false, title: 'Authentication required' },
  forbidden: { status: 403, retryable: false, title: 'Forbidden' },
  not_found: { status: 404, retryable: false, title: 'Not found' },
  uniqueness: { status: 409, retryable: false, title: 'Already exists' },
  conflict: { status: 409, retryable: true, title: 'Concurrent update' },
  precondition_failed: { status: 412, retryable: false, title: 'Precondition failed' },
  payload_too_large: { status: 413, retryable: false, title: 'Payload too large' },
  unsupported_media_type: { status: 415, retryable: false, title: 'Unsupported media type' },
  rate_limited: { status: 429, retryable: true, title: 'Too many requests' },
  invalid_config: { status: 500, retryable: false, title: 'Invalid configuration' },
  internal: { status: 500, retryable: true, title: 'Internal error' },
  not_implemented: { status: 501, retryable: false, title: 'Not supported' },
  unavailable: { status: 503, retryable: true, title: 'Dependency unavailable' },
  target_rejected: { status: 502, retryable: false, title: 'Target rejected the change' },
  target_unavailable: { status: 503, retryable: true, title: 'Target unavailable' },
} as const satisfies Record<string, { status: number; retryable: boolean; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AppErrorOptions {
  /** Safe, client-facing detail. Never put secrets or personal data here. */
  readonly detail?: string;
  /** Structured, client-safe facts (e.g. the config key or the attribute path at fault). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Seconds a caller should wait before retrying (from a target's Retry-After, for example). */
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.detail = options.detail;
    this.meta = options.meta ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
