// docs/configuration.md, generated from the KEYS table (`tblab config --docs` prints it,
// scripts/gen-docs.mjs writes it, a unit test fails when the file and the table disagree).
import { KEYS, type ConfigKey } from './keys.js';

const GROUP_ORDER = ['ThingsBoard', 'REST', 'Fleet', 'MQTT', 'Run', 'Workloads', 'Instances', 'Delivery', 'Dashboard', 'Files'] as const;

const GROUP_TITLE: Record<(typeof GROUP_ORDER)[number], string> = {
  ThingsBoard: 'ThingsBoard server',
  REST: 'REST client',
  Fleet: 'Fleet',
  MQTT: 'MQTT',
  Run: 'Run',
  Workloads: 'Workloads',
  Instances: 'Several instances',
  Delivery: 'Delivery check',
  Dashboard: 'Dashboard',
  Files: 'Files',
};

/** A line under the group's heading, pointing to where the keys are explained. */
const GROUP_NOTE: Partial<Record<(typeof GROUP_ORDER)[number], string>> = {
  REST: 'How the REST client retries and refreshes its token: [fleet.md](fleet.md#the-rest-client).',
  Run: 'How a run uses them: [running.md](running.md).',
  Workloads: 'What each workload does and reports: [workloads.md](workloads.md).',
  Instances: 'How instances split one fleet: [scaling.md](scaling.md).',
  Delivery: 'What the delivery check reads and reports: [delivery.md](delivery.md).',
  Dashboard: 'The dashboard and its endpoints: [metrics-api.md](metrics-api.md).',
};

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The whole of docs/configuration.md. */
export function renderConfigDoc(): string {
  const keys = Object.keys(KEYS) as ConfigKey[];
  const sections = GROUP_ORDER.flatMap((g) => {
    const rows = keys
      .filter((k) => KEYS[k].group === g)
      .map((k) => {
        const d: { def?: string; doc: string; secret?: boolean } = KEYS[k];
        const def = d.def === undefined || d.def === '' ? '—' : `\`${d.def}\``;
        return `| \`${k}\` | ${def} | ${cell(d.doc)}${d.secret ? ' (secret: never printed)' : ''} |`;
      });
    const note = GROUP_NOTE[g] ? [GROUP_NOTE[g], ''] : [];
    return rows.length ? [`## ${GROUP_TITLE[g]}`, '', ...note, '| key | default | meaning |', '| --- | --- | --- |', ...rows, ''] : [];
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config/keys.ts by `tblab config --docs` (and `node scripts/gen-docs.mjs`). Do not edit by hand. -->',
    '',
    'One resolved configuration per command, in this order (later wins): built-in defaults < `.env` <',
    'process environment < `--scenario file.json` < flags (`--set KEY=VALUE` sets any key). Every',
    'problem is reported at once, naming the key, the value, where it came from and the form expected.',
    '`tblab config` prints the resolved configuration (secrets removed); `tblab config --docs` prints',
    'this page. Booleans take `1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off`.',
    '',
    ...sections,
  ].join('\n');
}
