import { pino, type Logger } from 'pino';

/** Paths pino censors wherever they appear: credentials never reach a log line. */
export const REDACT_PATHS = [
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'cookie', '*.cookie', 'headers.cookie', '*.headers.cookie', '*["set-cookie"]',
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', '*.secrets',
  'connectionString', '*.connectionString', 'DATABASE_URL', 'REDIS_URL', '*.DATABASE_URL', '*.REDIS_URL',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'tether', pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: pino.stdSerializers.err },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
