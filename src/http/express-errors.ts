import { AppError } from '../domain/errors.js';

/**
 * Errors raised by express itself (body parser, router), as AppErrors; anything else is not ours to classify.
 * Messages are fixed strings: parser messages can echo request bytes.
 */
export function fromExpressError(error: unknown): AppError | null {
  if (error === null || typeof error !== 'object') return null;
  const type = (error as { type?: unknown }).type;
  switch (type) {
    case 'entity.parse.failed':
      return new AppError('invalid_syntax', 'malformed JSON', { detail: 'The request body is not valid JSON' });
    case 'entity.too.large':
      return new AppError('payload_too_large', 'payload too large', { detail: 'The request body is too large' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 'unsupported encoding', { detail: 'Unsupported content encoding or charset' });
    default:
      return fromClientError(error);
  }
}

/**
 * Other client errors express marks with a 4xx status: an undecodable `%` sequence in a path parameter
 * (router), a body whose length disagrees with Content-Length or whose gzip stream is corrupt (raw-body,
 * zlib), an aborted upload. They are the client's fault, so never a 500.
 */
function fromClientError(error: object): AppError | null {
  const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  if (status === 413) return new AppError('payload_too_large', 'payload too large', { detail: 'The request body is too large' });
  if (status === 415) return new AppError('unsupported_media_type', 'unsupported media type', { detail: 'Unsupported content encoding or charset' });
  if (error instanceof URIError) return new AppError('invalid_syntax', 'malformed URI', { detail: 'The request path has a malformed percent-encoding' });
  return new AppError('invalid_syntax', 'malformed request', { detail: 'The request could not be read' });
}
