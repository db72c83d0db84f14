/**
 * Whether the real `terraform` is on PATH, for the tests that run it (offline, with the built-in `terraform_data`
 * resource). Where there is none, the test is skipped and says so in the output, never silently.
 */
import { execaSync } from 'execa';

let known: boolean | undefined;

export function hasRealTerraform(): boolean {
  if (known === undefined) {
    try {
      known = execaSync('terraform', ['version'], { reject: false, timeout: 15_000 }).exitCode === 0;
    } catch {
      known = false;
    }
    if (!known) process.stdout.write('No real terraform on PATH: the tests that run it are skipped.\n');
  }
  return known;
}
