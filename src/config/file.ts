import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import type { TargetConfig } from '../../connectors/registry.js';
import { webhookConfigSchema } from '../../connectors/webhook/config.js';
import { AppError } from '../domain/errors.js';
import { isToolPattern } from '../domain/patterns.js';
import { ENVIRONMENTS, RISK_CLASSES, type Ceilings, type GrantCondition, type Tool } from '../domain/types.js';
import { formatIssues } from './format-issues.js';
import { secretReference } from './secrets.js';

const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, 'letters, digits, _ . - (max 63), starting with a letter or digit');
const toolId = z.string().regex(/^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/i, 'a dotted tool id such as crm.contacts.read');
const toolPattern = z.string().refine(isToolPattern, 'a tool id or a pattern such as crm.* or *');
const risk = z.enum(RISK_CLASSES);

const sourceSchema = z.strictObject({
  id,
  kind: z.enum(['scim']),
  displayName: z.string().min(1).optional(),
});

const toolSchema = z.strictObject({ id: toolId, system: z.string().min(1), risk });

const conditionSchema = z.union([
  z.strictObject({ group: z.string().min(1) }),
  z.strictObject({ attribute: z.string().min(1), in: z.array(z.string()).min(1) }),
]);

const ruleSchema = z.strictObject({
  id,
  description: z.string().optional(),
  when: z.array(conditionSchema).min(1),
  tools: z.array(toolPattern).min(1),
});

const ceilingSchema = z.strictObject({
  risks: z.array(risk),
  deny: z.array(toolPattern).default([]),
});

const DEFAULT_CEILINGS: Ceilings = {
  sandbox: { risks: ['read'], deny: [] },
  pilot: { risks: ['read', 'write'], deny: [] },
  production: { risks: ['read', 'write', 'orchestrate'], deny: [] },
};

function fileSchema(baseDir: string) {
  const secret = secretReference(baseDir);
  const targetSchema = z.discriminatedUnion('kind', [webhookConfigSchema(secret)]);
  return z
    .strictObject({
      sources: z.array(sourceSchema).min(1),
      tools: z.array(toolSchema).default([]),
      grantRules: z.array(ruleSchema).default([]),
      ceilings: z.partialRecord(z.enum(ENVIRONMENTS), ceilingSchema).default({}),
      targets: z.array(targetSchema).default([]),
    })
    .superRefine((config, context) => {
      flagDuplicates(config.sources.map((source) => source.id), ['sources'], context);
      flagDuplicates(config.tools.map((tool) => tool.id), ['tools'], context);
      flagDuplicates(config.grantRules.map((rule) => rule.id), ['grantRules'], context);
      flagDuplicates(config.targets.map((target) => target.id), ['targets'], context);
    });
}

function flagDuplicates(ids: readonly string[], path: (string | number)[], context: z.RefinementCtx): void {
  const seen = new Set<string>();
  ids.forEach((value, index) => {
    if (seen.has(value)) context.addIssue({ code: 'custom', path: [...path, index, 'id'], message: `duplicate id "${value}"` });
    seen.add(value);
  });
}

export interface TetherConfig {
  readonly path: string;
  readonly sources: readonly { id: string; kind: 'scim'; displayName: string }[];
  readonly tools: readonly Tool[];
  readonly grantRules: readonly { id: string; when: readonly GrantCondition[]; tools: readonly string[] }[];
  readonly ceilings: Ceilings;
  readonly targets: readonly TargetConfig[];
}

/** Reads and validates tether.yaml. Any problem stops startup with a message naming the key. */
export function loadConfigFile(path: string): TetherConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new AppError('invalid_config', `cannot read config file ${absolute} (TETHER_CONFIG): ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfig(text, absolute);
}

export function parseConfig(text: string, absolutePath: string): TetherConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos !== undefined ? ` at line ${error.linePos[0].line}` : '';
    throw new AppError('invalid_config', `${absolutePath} is not valid YAML${where}`);
  }
  const result = fileSchema(dirname(absolutePath)).safeParse(raw ?? {});
  if (!result.success) throw new AppError('invalid_config', formatIssues(absolutePath, result.error.issues));
  const config = result.data;
  return {
    path: absolutePath,
    sources: config.sources.map((source) => ({ id: source.id, kind: source.kind, displayName: source.displayName ?? source.id })),
    tools: config.tools,
    grantRules: config.grantRules.map((rule) => ({
      id: rule.id,
      when: rule.when.map((condition): GrantCondition =>
        'group' in condition
          ? { kind: 'group', group: condition.group }
          : { kind: 'attribute', attribute: condition.attribute, values: condition.in },
      ),
      tools: rule.tools,
    })),
    ceilings: {
      sandbox: config.ceilings.sandbox ?? DEFAULT_CEILINGS.sandbox,
      pilot: config.ceilings.pilot ?? DEFAULT_CEILINGS.pilot,
      production: config.ceilings.production ?? DEFAULT_CEILINGS.production,
    },
    targets: config.targets,
  };
}
