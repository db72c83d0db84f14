/**
 * The two templates built into the bot: a virtual machine and a storage bucket, whose configuration the bot writes
 * itself (src/engine/config-generator.ts) on gcp, aws and azure. They have no files; their inputs are the options
 * /cloud-deploy has always had, described as variables so that a template listing shows them like any other.
 * Ids are negative: no stored template can have one.
 */
import { MAX_BOOT_DISK_GB } from '../projects/boot-disk.js';
import type { Template } from './template.js';

export const BUILTIN_TEMPLATES: readonly Template[] = [
  {
    id: -1,
    guildId: null,
    name: 'vm',
    source: 'builtin',
    description: 'A virtual machine (Debian 12) on the project’s cloud.',
    variables: [
      { name: 'instance_type', type: 'string', description: 'Machine type, e.g. e2-micro (gcp), t3.micro (aws), Standard_B1s (azure).', hasDefault: false, sensitive: false, nullable: false },
      {
        name: 'disk_size',
        type: 'number',
        description: `Boot disk in GB, up to ${MAX_BOOT_DISK_GB}; 20 GB when left out (30 GB on azure, its image’s size).`,
        hasDefault: true,
        defaultValue: 20,
        sensitive: false,
        nullable: true,
      },
    ],
    createdBy: 'system',
    createdAt: 0,
    updatedAt: 0,
  },
  {
    id: -2,
    guildId: null,
    name: 'bucket',
    source: 'builtin',
    description: 'A storage bucket on the project’s cloud.',
    variables: [
      { name: 'disk_size', type: 'number', description: 'Storage you expect to keep, in GB (for the cost estimate).', hasDefault: true, defaultValue: null, sensitive: false, nullable: true },
    ],
    createdBy: 'system',
    createdAt: 0,
    updatedAt: 0,
  },
];

export function builtinTemplate(name: string): Template | undefined {
  return BUILTIN_TEMPLATES.find((template) => template.name === name);
}
