/**
 * Walking the blocks of a parsed file the same way for both syntaxes. The HCL parser gives every block as an array
 * of bodies under its labels (`resource.aws_instance.web[0]`); Terraform's JSON syntax allows an object or an array
 * of objects at every level. `eachBlock` hides the difference.
 */
import type { Body } from './hcl.js';

export interface ParsedFile {
  /** Relative to the template's folder, `/` separators. */
  path: string;
  syntax: 'hcl' | 'json';
  body: Body;
}

function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asBodies(value: unknown): Body[] {
  if (Array.isArray(value)) return value.filter(isBody);
  return isBody(value) ? [value] : [];
}

/** Every block of `type` in `body` with its labels (`labels` of them: 0 for `terraform`, 1 for `variable`, 2 for `resource`). */
export function eachBlock(body: Body, type: string, labels: 0 | 1 | 2): Array<{ labels: string[]; body: Body }> {
  const found: Array<{ labels: string[]; body: Body }> = [];
  const descend = (value: unknown, remaining: number, seen: string[]): void => {
    for (const item of asBodies(value)) {
      if (remaining === 0) {
        found.push({ labels: seen, body: item });
        continue;
      }
      for (const [label, inner] of Object.entries(item)) descend(inner, remaining - 1, [...seen, label]);
    }
  };
  descend(body[type], labels, []);
  return found;
}

/** The nested blocks (or attribute objects) `name` inside a block body, whichever syntax wrote it. */
export function nested(body: Body, name: string): Body[] {
  return asBodies(body[name]);
}
