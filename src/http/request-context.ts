import type { Principal } from '../app/auth/tokens.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Correlates logs, audit entries and error responses; echoed as X-Request-Id. */
    id: string;
    /** When the request arrived: the start of every change event's latency. */
    receivedAt: Date;
    /** Set by the bearer-token middleware. */
    principal?: Principal;
  }
}

export {};
