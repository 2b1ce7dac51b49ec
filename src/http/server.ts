import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/**
 * Long SCIM filters travel in the URL, so the request line may exceed Node's 16 KiB default header limit;
 * 64 KiB lets such requests reach the SCIM router, which answers them with a proper `invalidFilter`.
 */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The HTTP server for the express app. Requests Node rejects before express sees them (headers too large,
 * malformed HTTP) still get a JSON error body in the SCIM error shape instead of an empty response.
 */
export function createHttpServer(app: Express): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || socket.destroyed) return;
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: String(status),
      detail: tooLarge ? 'The request line or headers are too large' : 'Malformed HTTP request',
    });
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/scim+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
