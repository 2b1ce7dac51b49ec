import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { Secret } from './secret.js';

export { Secret } from './secret.js';

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
