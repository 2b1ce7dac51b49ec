/**
 * Import directions of design.md §4:
 *   domain <- app <- (http, jobs, cli); adapters (store, connectors) implement ports declared where used;
 *   nothing imports main (the composition roots), except the CLI that launches them.
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain has no I/O and imports nothing outside src/domain (no node: modules, no packages).',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'app-depends-on-domain-only',
      comment: 'Use cases receive adapters as ports; they never import store, http, jobs, connectors, cli or main.',
      severity: 'error',
      from: { path: '^src/app/' },
      to: { path: '^(src/(store|http|cli|main|config)|jobs|connectors)/' },
    },
    {
      name: 'nothing-imports-main',
      comment: 'main/ is the composition root; only the CLI entry point may launch it.',
      severity: 'error',
      from: { path: '^(src/(domain|app|store|http|config)|jobs|connectors)/' },
      to: { path: '^src/main/' },
    },
    {
      name: 'adapters-do-not-import-transports',
      comment: 'store and connectors are adapters: they may use domain and app port types, never http/jobs/cli.',
      severity: 'error',
      from: { path: '^(src/store|connectors)/' },
      to: { path: '^(src/(http|cli|main)|jobs)/' },
    },
    {
      name: 'transports-do-not-import-adapters',
      comment: 'http, jobs and cli reach storage and targets only through app use cases and ports.',
      severity: 'error',
      from: { path: '^(src/http|jobs)/' },
      to: { path: '^(src/store|connectors)/' },
    },
    {
      name: 'only-jobs-imports-bullmq',
      comment: 'BullMQ is confined to jobs/ (design.md §4).',
      severity: 'error',
      from: { pathNot: '^jobs/' },
      to: { path: 'node_modules/bullmq/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
