/**
 * The net under "never log a secret": fields whose names say they may hold one are blanked in every log line, at
 * the paths given (`token`, `*.token`, `headers.authorization`; `*` is any one key). pino's own `redact` option does
 * this by compiling the paths into code that wraps each key's stringifier, and with wildcards it walks every key
 * of every line for each of them: 13 µs of a 16 µs "interaction handled" line. Here the paths become a tree walked
 * once per line alongside the object's own keys (well under a microsecond for a line with no such field). The
 * object logged is never changed: what needs blanking is copied first.
 */
interface PathTree {
  /** Blank the value at this point. */
  leaf: boolean;
  children: Map<string, PathTree>;
  /** `*`: any one key. */
  any: PathTree | undefined;
}

const node = (): PathTree => ({ leaf: false, children: new Map(), any: undefined });

export function compilePaths(paths: readonly string[]): PathTree {
  const root = node();
  for (const path of paths) {
    let at = root;
    for (const segment of path.split('.')) {
      if (segment === '*') at = at.any ??= node();
      else {
        let next = at.children.get(segment);
        if (!next) at.children.set(segment, (next = node()));
        at = next;
      }
    }
    at.leaf = true;
  }
  return root;
}

/** `value` with what `tree` names replaced by `censor`: the same object when nothing is, else a copy. */
export function redactObject(value: unknown, tree: PathTree, censor: string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  let copy: Record<string, unknown> | unknown[] | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const exact = tree.children.get(key);
    const any = tree.any;
    if (exact === undefined && any === undefined) continue;
    const child = source[key];
    let next: unknown;
    if (exact?.leaf || any?.leaf) next = child === undefined ? child : censor;
    else {
      next = exact ? redactObject(child, exact, censor) : child;
      if (any) next = redactObject(next, any, censor);
    }
    if (next === child) continue;
    // An error is copied with its prototype and every property (message and stack are not enumerable), so pino's
    // serializer still prints it as the error it is.
    copy ??= value instanceof Error
      ? (Object.create(Object.getPrototypeOf(value) as object, Object.getOwnPropertyDescriptors(value)) as Record<string, unknown>)
      : Array.isArray(value)
        ? [...(value as unknown[])]
        : { ...source };
    (copy as Record<string, unknown>)[key] = next;
  }
  return copy ?? value;
}
