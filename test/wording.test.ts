/** Small wording rules members read everywhere: articles before provider names, what the engine is doing now. */
import { describe, expect, it } from 'vitest';
import { ProgressLog } from '../commands/views/deploy.js';
import { toMarkdown } from '../src/discord/markdown.js';
import { InvalidRegion } from '../src/projects/errors.js';
import { bootDiskProblem } from '../src/projects/boot-disk.js';
import { withArticle } from '../src/shared/article.js';

describe('an article before a provider name reads as spoken', () => {
  it('"an AWS", "an S3", "an Azure", "a GCP", "a storage"', () => {
    expect(['AWS', 'aws', 'S3', 's3', 'Azure', 'azure', 'GCP', 'gcp', 'storage (aws or s3)'].map(withArticle)).toEqual([
      'an AWS',
      'an aws',
      'an S3',
      'an s3',
      'an Azure',
      'an azure',
      'a GCP',
      'a gcp',
      'a storage (aws or s3)',
    ]);
  });

  it('a region refused for an AWS project says "not an AWS region name"', () => {
    expect(toMarkdown(new InvalidRegion('aws', 'us-central1', 'us-east-1').text)).toContain('is not an AWS region name');
    expect(bootDiskProblem('aws', 1)).toMatch(/^an AWS virtual machine's boot disk/);
  });
});

describe('live progress says what the engine is doing', () => {
  it('"still creating (1s)", "destroying…", never "still create"', () => {
    const log = new ProgressLog('Applying');
    log.add({ type: 'apply_start', address: 'aws_instance.vm_1', action: 'create' });
    log.add({ type: 'apply_progress', address: 'aws_instance.vm_1', action: 'create', elapsedSeconds: 1 });
    log.add({ type: 'apply_start', address: 'aws_s3_bucket.b', action: 'delete' });
    const shown = JSON.stringify(log.view());
    expect(shown).toContain('aws_instance.vm_1: creating…');
    expect(shown).toContain('aws_instance.vm_1: still creating (1s)');
    expect(shown).toContain('aws_s3_bucket.b: destroying…');
    expect(shown).not.toMatch(/still create\b/);
  });
});
