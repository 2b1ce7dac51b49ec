import express, { type RequestHandler } from 'express';

const JSON_TYPES = ['application/json', 'application/scim+json', 'application/*+json'];

/**
 * JSON body parser, mounted inside each router so that malformed or oversized bodies reach that router's
 * own error mapper (SCIM error JSON, or problem JSON) instead of express's default HTML page.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({ type: JSON_TYPES, limit: limitBytes, strict: false });
}
