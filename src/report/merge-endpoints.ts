// `report merge` of the per-endpoint section (MQTT_ENDPOINTS): instances that split one fleet send
// each device to the same endpoint (by fleet index), so an endpoint's numbers are the sums of the
// instances' rows for it, and its connect latency the union of their encoded histograms.
import { createHistogram, encodeHistogram, mergeInto, summarize, type Histogram } from '../metrics/hdr.js';
import type { CauseClass, EndpointStats } from '../metrics/snapshot.js';
import { sumMaps } from './merge-metrics.js';

export interface EndpointsInput {
  label: string;
  /** Absent in reports of metrics schema 1. */
  endpoints?: readonly EndpointStats[];
  /** The report's `histograms.endpointConnectMs`, in the order of `endpoints`. */
  connectMs?: ReadonlyArray<string | null>;
}

export interface MergedEndpoints {
  endpoints: EndpointStats[];
  connectMs: Array<string | null>;
  warnings: string[];
}

export function mergeEndpoints(inputs: readonly EndpointsInput[]): MergedEndpoints {
  const warnings: string[] = [];
  const without = inputs.filter((i) => !i.endpoints);
  if (without.length) {
    if (without.length < inputs.length)
      warnings.push(`${without.map((i) => i.label).join(', ')}: no per-endpoint numbers (older report): the merged report has none`);
    return { endpoints: [], connectMs: [], warnings };
  }
  const rows = new Map<string, { parts: EndpointStats[]; hist: Histogram; exact: boolean }>();
  for (const inp of inputs) {
    inp.endpoints!.forEach((e, k) => {
      let row = rows.get(e.endpoint);
      if (!row) rows.set(e.endpoint, (row = { parts: [], hist: createHistogram(), exact: true }));
      row.parts.push(e);
      const encoded = inp.connectMs?.[k];
      if (encoded) mergeInto(row.hist, encoded);
      else if (e.connectMs.count > 0) row.exact = false;
    });
  }
  const endpoints: EndpointStats[] = [];
  const connectMs: Array<string | null> = [];
  for (const [endpoint, { parts, hist, exact }] of rows) {
    const sum = (f: (e: EndpointStats) => number) => parts.reduce((a, e) => a + f(e), 0);
    if (!exact) warnings.push(`endpoint ${endpoint}: an instance has connect latencies but no histogram: its connectMs is left empty`);
    const latency = exact ? hist : createHistogram();
    endpoints.push({
      endpoint,
      devices: sum((e) => e.devices),
      connected: sum((e) => e.connected),
      attempts: sum((e) => e.attempts),
      succeeded: sum((e) => e.succeeded),
      failed: sum((e) => e.failed),
      connectMs: summarize(latency),
      disconnects: {
        total: sum((e) => e.disconnects.total),
        byCause: sumMaps(parts.map((e) => e.disconnects.byCause)) as Record<string, number>,
        byClass: sumMaps(parts.map((e) => e.disconnects.byClass)) as Partial<Record<CauseClass, number>>,
      },
    });
    connectMs.push(latency.totalCount ? encodeHistogram(latency) : null);
  }
  return { endpoints, connectMs, warnings };
}
