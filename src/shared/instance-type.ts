/**
 * Instance type names as the providers write them ("e2-micro", "t3.micro", "Standard_B1s"): letters, digits, ".",
 * "_" and "-", at most 64 characters, starting with a letter or digit. One rule for every place that takes one
 * (a resource, a policy request, the price catalogue, the generated configuration), so none accepts what another
 * refuses.
 */
import { z } from 'zod';

export const INSTANCE_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const instanceTypeSchema = z.string().regex(INSTANCE_TYPE_PATTERN, 'an instance type name (letters, digits, ".", "_", "-")');

export function isInstanceTypeName(value: string): boolean {
  return INSTANCE_TYPE_PATTERN.test(value);
}
