import type { z } from 'zod';

/** "targets[0].url: Invalid URL" — every config error names its key. */
export function formatIssues(origin: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    const path = issue.path.reduce<string>((text, segment) => {
      if (typeof segment === 'number') return `${text}[${segment}]`;
      return text === '' ? String(segment) : `${text}.${String(segment)}`;
    }, '');
    return `  - ${path === '' ? '(root)' : path}: ${issue.message}`;
  });
  return `${origin} is invalid:\n${lines.join('\n')}`;
}
