// Lint: bugs and async mistakes, not style (Prettier owns the layout; see .prettierrc.json).
// `npm run lint` checks; `npm run lint:fix` applies the safe autofixes.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const LINE_LIMIT = 140; // the project's line limit; Prettier wraps code to it, this catches long comments

export default defineConfig(
  globalIgnores(['dist/', 'data/', 'node_modules/', 'test-artifacts/', 'bench/results/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // type-aware rules that catch real bugs in socket/timer code: a dropped promise hides its rejection
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try/catch skips the catch: await it there
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // only Error objects carry a stack and a LabError code
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // type-only imports vanish from the JavaScript, so they never create a load-order cycle
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // the dashboard page runs in the browser, served as plain ES modules
    files: ['src/dashboard/ui/public/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // tests read JSON and manifests of any shape and assert on them
      '@typescript-eslint/no-explicit-any': 'off',
      // node:test's describe/it return promises the runner awaits itself
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
    },
  },
  prettier,
  {
    rules: {
      // MQTT frames and terminal output contain control characters on purpose
      'no-control-regex': 'off',
      eqeqeq: ['error', 'smart'],
      // after eslint-config-prettier (which turns max-len off): Prettier cannot wrap comments; strings and URLs may stay long
      'max-len': [
        'error',
        { code: LINE_LIMIT, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
    },
  },
);
