import { inspect } from 'node:util';

/**
 * A secret value that refuses to be printed: logs, JSON and util.inspect all show [redacted].
 * Only `reveal()` gives the value, at the single place that needs it (signing, binding). In a module of its
 * own, without zod, so the LDAP scan thread can build one without loading the config schema.
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
