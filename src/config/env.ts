import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { formatIssues } from './format-issues.js';

const optionalString = z.string().trim().min(1).optional();
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const boolean = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/** Process environment, validated once at startup. Names are the public automation contract. */
export const envSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_MAX: positiveInt.default(10),
  TETHER_DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  TETHER_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_{}-]+$/, 'letters, digits, _ - { } only').default('tether'),
  TETHER_CONFIG: z.string().min(1).default('./tether.yaml'),
  TETHER_BOOTSTRAP_ADMIN_TOKEN: optionalString,
  TETHER_BOOTSTRAP_SCIM_TOKEN: optionalString,
  TETHER_WORKER_CONCURRENCY: positiveInt.default(8),
  TETHER_OUTBOX_RELAY_MS: positiveInt.default(2000),
  TETHER_OUTBOX_GRACE_MS: z.coerce.number().int().min(0).default(3000),
  TETHER_AUDIT_SEAL_MS: positiveInt.default(1000),
  TETHER_TRUST_PROXY: boolean.default(false),
  /** The URL browsers and the IdP reach Tether at (SAML ACS and metadata); default http://localhost:PORT. */
  TETHER_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Signs dashboard session cookies; required when admin.saml is configured. Same value on every instance. */
  TETHER_SESSION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** Secure cookies; default true when TETHER_PUBLIC_URL is https. */
  TETHER_COOKIE_SECURE: boolean.optional(),
  TETHER_AUTOSTART_REDIS: boolean.default(true),
  /** How far V8's old generation may grow past its live size before a full collection, in percent; 0: V8's default. */
  TETHER_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(300).default(50),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const defined = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const result = envSchema.safeParse(defined);
  if (!result.success) {
    throw new AppError('invalid_config', formatIssues('environment', result.error.issues));
  }
  return result.data;
}
