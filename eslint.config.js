// Lint rules are part of the house style (../shared/STYLE.md): a folder is a runtime, and imports
// only flow renderer → common and electron → main → common. CI fails on any breach.

import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'net', 'tls', 'http', 'https', 'child_process', 'crypto', 'stream', 'url', 'zlib', 'events', 'worker_threads'];
const ELECTRON = ['electron', 'electron/*'];
const NODE_PACKAGES = ['ssh2', 'ws', 'sharp', 'playwright-core'];

/** no-restricted-imports options banning the given module patterns with a reason. */
function ban(groups) {
  return ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }];
}

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'demo-report/**', '.lab/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bin/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='ipcMain'][callee.property.name=/^(on|handle|once)$/] > Literal:first-child", message: 'IPC channel names come from common/contract.ts (ipcChannel), never a literal.' },
        { selector: "CallExpression[callee.object.name='ipcRenderer'] > Literal:first-child", message: 'IPC channel names come from common/contract.ts (ipcChannel), never a literal.' },
      ],
    },
  },
  {
    // Plain-JS entry points (build script, bin, this config): no types to check them against.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': ban([
        [NODE_BUILTINS, 'common/ is pure: no Node built-ins (put it in main/).'],
        [ELECTRON, 'common/ never imports Electron.'],
        [NODE_PACKAGES, 'common/ is pure: no Node-only packages.'],
        [['react', 'react-dom', 'zustand', '@novnc/*', 'novnc-core/*', 'novnc-pako-inflate'], 'common/ has no UI code.'],
        [['**/main/**', '**/renderer/**', '**/electron/**', '../main/*', '../renderer/*', '../electron/*'], 'common/ imports only common/.'],
      ]),
    },
  },
  {
    files: ['main/**/*.ts'],
    rules: {
      'no-restricted-imports': ban([
        [ELECTRON, 'main/ never imports Electron: only electron/ does (main/ also runs as the browser shell).'],
        [['**/renderer/**', '**/electron/**', '../renderer/*', '../electron/*', 'react', 'react-dom', '@novnc/*'], 'main/ imports only main/ and common/.'],
      ]),
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      'no-restricted-imports': ban([[['**/renderer/**', '../renderer/*', 'react', 'react-dom', '@novnc/*'], 'electron/ never imports the renderer.']]),
    },
  },
  {
    files: ['electron/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ban([
        [['**/main/**', '../main/*', '**/renderer/**', '../renderer/*', ...NODE_BUILTINS, ...NODE_PACKAGES], 'the preload only uses contextBridge, ipcRenderer and common/.'],
      ]),
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ban([
        [['**/main/**', '../main/*', '../../main/*', '**/electron/**', '../electron/*', '../../electron/*'], 'the renderer reaches the back end only through the contract (common/contract.ts).'],
        [[...NODE_BUILTINS, ...ELECTRON, ...NODE_PACKAGES], 'the renderer runs in Chromium: no Node or Electron modules.'],
      ]),
    },
  },
  {
    files: ['tests/**/*.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // Fakes implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
      // node:test's describe/it return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
    },
  },
);
