// @ts-check
// ESLint 9 flat config: type-aware typescript-eslint rules, plus the layer order
// of src/ (see STYLE.md, "Layout") and no import cycles inside src/.
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import importX from 'eslint-plugin-import-x'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// Layers, top to bottom: queue/ → tabs/ → runner/ → store/, pool/ → shared/;
// worker/ → shared/. A folder may import itself and the folders listed after it.
// The entry files (src/*.ts) are in no zone: they may import any layer.
const LAYERS = {
  queue: ['tabs', 'runner', 'store', 'pool', 'shared'],
  tabs: ['runner', 'store', 'pool', 'shared'],
  runner: ['store', 'pool', 'shared'],
  store: ['shared'],
  pool: ['shared'],
  worker: ['shared'],
  shared: [],
}

const layerZones = Object.entries(LAYERS).map(([layer, below]) => ({
  target: `./src/${layer}`,
  from: './src',
  except: [`./${layer}`, ...below.map((b) => `./${b}`)],
  message:
    below.length === 0
      ? `src/${layer}/ is the bottom layer: it imports nothing else from src/.`
      : `src/${layer}/ may import only ${below.map((b) => `src/${b}/`).join(', ')} (and itself): imports point down the layers.`,
}))

export default defineConfig(
  {
    ignores: ['dist/**', 'dist-demo/**', 'test-results/**', 'coverage/**', 'node_modules/**', '**/*.js', '**/*.mjs', '**/*.d.ts'],
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/page/**/*.ts', 'demo/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.browser, ...globals.worker },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Promises: the bugs a job queue cannot afford.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // Rejecting with an AbortSignal's `reason` (typed any/unknown) is the platform's way.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Types at the boundary (verbatimModuleSyntax): `import type` / inline `type`.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/consistent-type-exports': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // The state machine: a new JobStatus must be handled wherever statuses are switched on.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/explicit-module-boundary-types': 'error',

      // Off: noise here, not bugs.
      // An async function without await still returns a promise, which is often the point (API shape).
      '@typescript-eslint/require-await': 'off',
      // errors.ts stringifies arbitrary thrown values on purpose, defensively.
      '@typescript-eslint/no-base-to-string': 'off',
      // `unknown | Promise<unknown>` documents intent in public types.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
  {
    // Conditional type helpers (`E extends TaskDefinition<infer I, any, any>`) need `any`.
    files: ['src/**/types.ts', 'src/testing.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests throw non-errors, pass methods to expect()/expectTypeOf() and read untyped fixtures on purpose.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Layer order and cycles: src/ only (tests and the bench may import anything).
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads the imported .ts files itself (for no-cycle): it must know their extension and parser.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      // Type-only imports are erased at runtime and are not followed (the import-x default).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
)
