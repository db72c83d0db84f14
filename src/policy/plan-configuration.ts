/**
 * Which attributes a resource's configuration sets, from the `configuration` part of `show -json`. A value the
 * plan leaves unknown means two different things: the module did not set it, so the provider chooses (a boot disk
 * takes its image's size), or the module set it from something only known after apply. Only the configuration
 * tells them apart, and the policy must not mistake the second for the first.
 */
import { z } from 'zod';

/** Module nesting deeper than this is not followed (Terraform itself has no limit; real modules stay shallow). */
const MAX_MODULE_DEPTH = 32;

const moduleSchema = z.looseObject({
  resources: z
    .array(z.looseObject({ mode: z.string().max(16).optional(), type: z.string().max(256), name: z.string().max(256), expressions: z.unknown().optional() }))
    .max(20_000)
    .optional(),
  module_calls: z.record(z.string().max(256), z.looseObject({ module: z.unknown().optional() })).optional(),
});

type ModuleConfig = z.infer<typeof moduleSchema>;

/** One module's managed resources, by `type.name`, with their expressions. */
type ResourceIndex = Map<string, unknown>;

export type AttributePath = ReadonlyArray<string | number>;

/** The configuration of every managed resource in a plan, looked up by module path, type and name. */
export class PlanConfiguration {
  /** Each module read once (a plan may ask about thousands of its resources). */
  readonly #indexes = new Map<string, ResourceIndex | undefined>();

  private constructor(private readonly root: ModuleConfig | undefined) {}

  /** From the whole `show -json` document; a plan without a readable configuration knows of no setting. */
  static of(planJson: unknown): PlanConfiguration {
    const configuration = z.object({ configuration: z.object({ root_module: z.unknown() }) }).safeParse(planJson);
    const root = configuration.success ? moduleSchema.safeParse(configuration.data.configuration.root_module) : undefined;
    return new PlanConfiguration(root?.success ? root.data : undefined);
  }

  /**
   * Whether the resource's configuration sets the attribute at `path` (blocks as lists: `['boot_disk', 0, 'size']`).
   * Undefined when the resource's configuration cannot be found: the caller must then assume it might.
   */
  sets(moduleAddress: string | undefined, type: string, name: string, path: AttributePath): boolean | undefined {
    const index = this.#index(moduleAddress ?? '');
    const key = `${type}.${name}`;
    if (!index?.has(key)) return undefined;
    let node: unknown = index.get(key);
    for (const step of path) {
      if (typeof step === 'number') {
        if (!Array.isArray(node)) return node !== undefined;
        node = node[step];
      } else {
        if (node === null || typeof node !== 'object' || Array.isArray(node)) return node !== undefined;
        node = Object.hasOwn(node, step) ? (node as Record<string, unknown>)[step] : undefined;
      }
      if (node === undefined) return false;
    }
    return true;
  }

  #index(moduleAddress: string): ResourceIndex | undefined {
    if (this.#indexes.has(moduleAddress)) return this.#indexes.get(moduleAddress);
    const module = this.#module(moduleAddress);
    const index = module ? new Map((module.resources ?? []).filter((r) => (r.mode ?? 'managed') === 'managed').map((r) => [`${r.type}.${r.name}`, r.expressions ?? {}])) : undefined;
    this.#indexes.set(moduleAddress, index);
    return index;
  }

  /** `module.a[0].module.b` → the configuration of module b inside a (instances share one configuration). */
  #module(moduleAddress: string): ModuleConfig | undefined {
    let module = this.root;
    const names = [...moduleAddress.matchAll(/module\.([^.[\]]+)(?:\[[^\]]*\])?/g)].map((m) => m[1] ?? '');
    if (names.length > MAX_MODULE_DEPTH) return undefined;
    for (const name of names) {
      const call = module?.module_calls && Object.hasOwn(module.module_calls, name) ? module.module_calls[name] : undefined;
      const parsed = call ? moduleSchema.safeParse(call.module) : undefined;
      module = parsed?.success ? parsed.data : undefined;
    }
    return module;
  }
}
