import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';
import trig from './scripts/eslint/layers.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'bin/', 'node_modules/', 'src/validate/generated/', 'bench/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // `{ payload: _payload, ...rest }` leaves a field out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // GitHub's example deliveries are arbitrary JSON that tests walk freely.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX, trig },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'trig/layers': 'error',
    },
  },
);
