export { EphemeralVault, type EphemeralVaultOptions, type VaultSessionInfo } from './ephemeral-vault.js';
export * from './errors.js';
