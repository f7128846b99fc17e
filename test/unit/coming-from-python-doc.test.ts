// docs/coming-from-python.md names every spelling of the Python lab this lab understands or explains,
// so a flag or key added to the tables in code cannot be missing from the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { PACKAGE_ROOT } from '../../src/common/version.js';
import { ORIGINAL_ONLY, withOriginalAliases } from '../../src/cli/original-flags.js';
import { ORIGINAL_KEY_ALIASES, ORIGINAL_ONLY_KEYS } from '../../src/config/keys.js';

test('docs/coming-from-python.md lists every original flag and key the code knows', () => {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs/coming-from-python.md'), 'utf8');
  const aliases = withOriginalAliases(new Command('x')).options.map((o) => o.long!);
  const names = [
    ...aliases,
    ...Object.keys(ORIGINAL_ONLY),
    '--skip-provision',
    '--skip-activate',
    '--deactivate-after',
    ...Object.keys(ORIGINAL_KEY_ALIASES),
    ...Object.keys(ORIGINAL_ONLY_KEYS),
  ];
  assert.ok(names.length > 20);
  const missing = names.filter((n) => !doc.includes(`\`${n}`));
  assert.deepEqual(missing, [], 'add them to docs/coming-from-python.md');
  const scripts = [
    'check_connectivity',
    'create_devices',
    'mqtt_stress_async',
    'run_stress_suite',
    'report_last_run',
    'stop_simulation',
    'delete_devices',
    'delete_by_prefix',
    'activate_devices',
    'deactivate_devices',
    'toggle_devices',
    'metrics_server',
  ];
  for (const script of scripts) {
    assert.ok(doc.includes(`\`${script}.py`), `${script}.py`);
  }
  // in the grep lines the brackets are escaped: grep '\[ERR\]'
  for (const filter of ['[ERR]', '[WARN]', '[MQTT]', 'Metrics |']) {
    assert.ok(doc.includes(filter.replace(/[[\]]/g, '\\$&')) || doc.includes(filter), filter);
  }
});
