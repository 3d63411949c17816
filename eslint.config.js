// ESLint: typescript-eslint's strict type-checked rules on every workspace, React's hooks rules on the page.
// Globs are generic so a new workspace (a folder with its own tsconfig.json) is covered without edits.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Code that drives or measures the product rather than ships in it.
const testFiles = [
  '**/test/**',
  '**/e2e/**',
  '**/bench/**',
  '**/*.test.{ts,tsx}',
  'testkit/**',
  '**/vitest*.config.ts',
];

export default defineConfig(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/test-results/**'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      // `${count} chats` and `${flag}` read clearly; objects, null and undefined stay forbidden.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      // `() => void promise` and `() => setX(y)` are the idiom for callbacks whose result is ignored.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `{ node: _node, ...rest }` is how a key is left out of the props passed on.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // The page's test and benchmark files belong to tsconfig.node.json, which the project
    // service cannot find (it looks only for files named tsconfig.json), so name it here.
    files: ['frontend/*.config.ts', 'frontend/{e2e,bench,test}/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: false, project: './frontend/tsconfig.node.json' },
    },
  },
  {
    files: ['frontend/src/**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat.recommended],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: testFiles,
    rules: {
      // Tests assert the shape first (expect(x).toBeDefined(), a length) and then read it.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `await act(async () => render(…))` is how React flushes microtasks; test factories return promises.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The embedded store answers the asynchronous ChatStore seam from synchronous SQLite:
    // its methods stay `async` so that every throw reaches the caller as a rejection.
    files: ['ai-server/src/store/embedded-store.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  { files: ['**/*.{js,mjs,cjs}'], extends: [tseslint.configs.disableTypeChecked] },
);
