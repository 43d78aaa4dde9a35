// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.rpo/**', 'coverage/**', 'test/fixtures/**/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
      'import-x/resolver': { node: { extensions: ['.ts', '.js', '.json', '.node'] } },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'import-x/no-cycle': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain .js here is CommonJS (the fixture Functions app is loaded with require(), as Azure loads it).
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests and local tooling handle untyped JSON all day; the unsafe-* family would only add casts.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'local/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Orchestrators are replayed: they must be deterministic. Time, ids and waiting come from context.df.
    files: ['orchestrations/**/*.ts'],
    rules: {
      // Value imports only: a type-only import (`import type`, or only `type` specifiers) is erased before it runs,
      // so orchestrators may share the shapes of activity inputs and records (e.g. lib/tables' Outcome).
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'orchestrators do no I/O: call an activity',
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: ['@azure/*', '!@azure/functions'],
              message: 'orchestrators call activities, never Azure SDKs',
              allowTypeImports: true,
            },
            {
              group: ['**/lib/azure', '**/lib/azure/**', '**/lib/tables', '**/lib/tables/**'],
              message: 'orchestrators do no I/O: call an activity',
              allowTypeImports: true,
            },
            {
              group: ['**/lib/config', '**/lib/config.*'],
              message: 'lib/config reads process.env: pass configuration as input',
              allowTypeImports: true,
            },
            {
              group: ['**/lib/clock', '**/lib/clock.*'],
              message: 'lib/clock reads the real clock: use context.df.currentUtcDateTime',
              allowTypeImports: true,
            },
            {
              group: ['**/local', '**/local/**'],
              message: 'local/ is the local stack (I/O, clock, environment): orchestrators never import it',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use context.df.createTimer' },
        { name: 'setInterval', message: 'use context.df.createTimer' },
        { name: 'setImmediate', message: 'orchestrators must be deterministic' },
        { name: 'fetch', message: 'do I/O in an activity' },
        { name: 'process', message: 'pass configuration as input' },
        { name: 'globalThis', message: 'orchestrators must be deterministic: no global escape hatches' },
        { name: 'crypto', message: 'use context.df.newGuid' },
        { name: 'performance', message: 'use context.df.currentUtcDateTime' },
        { name: 'queueMicrotask', message: 'orchestrators must be deterministic' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'use context.df.currentUtcDateTime',
        },
        {
          selector: "MemberExpression[object.name='Date'][property.name='now']",
          message: 'use context.df.currentUtcDateTime',
        },
        {
          selector: "CallExpression[callee.name='Date']",
          message: 'Date() is the current time as text: use context.df.currentUtcDateTime',
        },
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'use context.df.newGuid' },
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'pass configuration as input',
        },
        {
          selector: "CallExpression[callee.name='require']",
          message: 'orchestrators import only deterministic modules',
        },
        {
          selector: 'ImportExpression',
          message: 'orchestrators import only deterministic modules, statically (no import())',
        },
      ],
    },
  },
);
