/**
 * A module's own state backend: a `backend "<type>" {}` or `cloud {}` block inside a `terraform` block of the
 * template's top folder. The bot writes each deployment's backend itself (`backend.tf.json`, from the project's
 * choice: local, S3, GCS or azurerm, each deployment under its own key), so a module's own would clash with it at
 * init or, worse, send the state somewhere the project did not choose. Refused always, whatever the operator allows.
 * Child modules (folders below the top) are left alone: Terraform reads a backend only from the root module.
 */
import { eachBlock, nested, type ParsedFile } from './blocks.js';
import type { BackendFinding } from './errors.js';

/** Every backend or cloud block of the root module's files, in file order. */
export function findOwnBackends(files: readonly ParsedFile[]): BackendFinding[] {
  const findings: BackendFinding[] = [];
  for (const file of files.filter((f) => !f.path.includes('/'))) {
    for (const settings of eachBlock(file.body, 'terraform', 0)) {
      for (const backend of eachBlock(settings.body, 'backend', 1)) findings.push({ file: file.path, block: `backend "${backend.labels[0] ?? ''}"` });
      if (nested(settings.body, 'cloud').length > 0) findings.push({ file: file.path, block: 'cloud' });
    }
  }
  return findings;
}
