export { createPgDb } from './pg-db.js';
export { createPgliteDb } from './pglite-db.js';
