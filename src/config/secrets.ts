import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';

/**
 * A secret value that refuses to be printed: logs, JSON and util.inspect all show [redacted].
 * Only `reveal()` gives the value, at the single place that needs it (signing, binding).
 */
export class Secret {
  readonly #value: string;
  readonly reference: string;

  constructor(value: string, reference: string) {
    this.#value = value;
    this.reference = reference;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return `Secret(${this.reference})`;
  }
}

/** `env:NAME` or `file:PATH` (relative to the config file's folder). Plain values are refused. */
export function secretReference(baseDir: string) {
  return z
    .string()
    .regex(/^(env|file):.+$/, 'must be a reference "env:NAME" or "file:PATH", never the secret itself')
    .transform((reference, context) => {
      const [kind, ...rest] = reference.split(':');
      const target = rest.join(':');
      if (kind === 'env') {
        const value = process.env[target];
        if (value === undefined || value === '') {
          context.addIssue({ code: 'custom', message: `environment variable ${target} is not set` });
          return z.NEVER;
        }
        return new Secret(value, reference);
      }
      try {
        return new Secret(readFileSync(resolve(baseDir, target), 'utf8').trim(), reference);
      } catch (error) {
        context.addIssue({ code: 'custom', message: `cannot read ${target}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` });
        return z.NEVER;
      }
    });
}
