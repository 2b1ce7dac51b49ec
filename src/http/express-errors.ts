import { AppError } from '../domain/errors.js';

/**
 * Errors raised by express's own body parser, as AppErrors; anything else is not ours to classify.
 * Messages are fixed strings: parser messages can echo request bytes.
 */
export function fromExpressError(error: unknown): AppError | null {
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
      return null;
  }
}
