// The one table from a coded error to an HTTP status. Malformed requests are
// 4xx with the code and a message; a decision (allow or deny) is never an error.
import type { Response } from 'express';
import { BaseError } from '../error.ts';

export type HttpErrorCode =
  | 'BODY_TOO_LARGE'
  | 'BODY_NOT_JSON'
  | 'BODY_TOO_DEEP'
  | 'REQUEST_INVALID'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'ENDPOINT_DISABLED'
  | 'UPLOAD_TOO_LARGE'
  | 'UPLOAD_INVALID'
  | 'NOT_READY'
  | 'INTERNAL';

export class HttpError extends BaseError<HttpErrorCode> {}

const STATUS: Record<string, number> = {
  BODY_TOO_LARGE: 413,
  UPLOAD_TOO_LARGE: 413,
  BODY_NOT_JSON: 400,
  BODY_TOO_DEEP: 400,
  REQUEST_INVALID: 400,
  UPLOAD_INVALID: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ENDPOINT_DISABLED: 404,
  NOT_READY: 503,
  INTERNAL: 500,
  // Codes from other modules that can reach the edge as malformed input.
  ADMISSION_REVIEW_INVALID: 400,
  ADMISSION_KIND_UNSUPPORTED: 400,
  ADMISSION_SUBRESOURCE_UNSUPPORTED: 400,
  ADMISSION_TOO_MANY_CONTAINERS: 400,
  IMAGE_REFERENCE_INVALID: 400,
  INVALID_DIGEST: 400,
  INPUT_TOO_LARGE: 413,
  MALFORMED_JSON: 400,
  NESTING_TOO_DEEP: 400,
};

export function statusOf(code: string): number {
  return STATUS[code] ?? 500;
}

/** Writes `{ error: { code, message } }` with the status the table gives. */
export function sendError(res: Response, err: unknown): void {
  const coded =
    err instanceof BaseError
      ? { code: err.code as string, message: err.message }
      : { code: 'INTERNAL', message: 'internal error' };
  res.status(statusOf(coded.code)).json({ error: coded });
}
