import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'drizzle/', 'deployments/', 'data/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Type-aware, for the two mistakes the compiler lets through once repositories are asynchronous (issue 16): a
    // promise nobody awaits (a write that may land after the reply, or fail unseen), and an async function handed to
    // a callback that ignores its promise.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Build scripts are plain JavaScript run by node before anything is compiled.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/discord/**'],
    rules: {
      // The domain knows nothing of Discord: only the adapter in src/discord may import it.
      'no-restricted-imports': ['error', { patterns: ['discord.js', '@discordjs/*'] }],
    },
  },
);
