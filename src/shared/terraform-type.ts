/**
 * Terraform resource type names as providers define them ("google_compute_instance", "aws_s3_bucket"): the
 * provider's local name, an underscore, the rest, in lower-case letters, digits and underscores. One rule for the
 * policy's allowed types, the price catalogue's overrides and what is read from a plan.
 */
import { z } from 'zod';

export const TERRAFORM_TYPE_PATTERN = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/;
export const MAX_TERRAFORM_TYPE_CHARS = 100;

export const terraformTypeSchema = z
  .string()
  .max(MAX_TERRAFORM_TYPE_CHARS)
  .regex(TERRAFORM_TYPE_PATTERN, 'a Terraform resource type (lower-case letters, digits and underscores, such as google_compute_instance)');

export function isTerraformTypeName(value: string): boolean {
  return value.length <= MAX_TERRAFORM_TYPE_CHARS && TERRAFORM_TYPE_PATTERN.test(value);
}
