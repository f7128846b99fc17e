// The engine's settings of the `rpc` and `attributes` workloads (src/config/keys-rpc.ts → the
// shards' overlays, src/device/round-trip-overlays.ts), present only when WORKLOADS lists them.
import type { ResolvedConfig } from '../../config/index.js';
import type { EngineConfig } from '../../engine/results.js';

/** The run calls REST as the tenant (it needs a token in its shards). */
export const usesRest = (c: ResolvedConfig): boolean => c.workloads.includes('rpc') || c.workloads.includes('attributes');

export function roundTripConfig(c: ResolvedConfig): Pick<EngineConfig, 'tbUrl' | 'rpc' | 'attributes'> {
  if (!usesRest(c)) return {};
  return {
    tbUrl: c.tbUrl,
    ...(c.workloads.includes('rpc')
      ? {
          rpc: {
            rate: c.rpcRate,
            mode: c.rpcMode,
            api: c.rpcApi,
            timeoutMs: c.rpcTimeoutMs,
            responseDelayMs: c.rpcResponseDelayMs,
            failureShare: c.rpcFailureShare,
            clientRate: c.rpcClientRate,
            targets: c.rpcTargets,
          },
        }
      : {}),
    ...(c.workloads.includes('attributes')
      ? {
          attributes: {
            rate: c.attributeRate,
            requestRate: c.attributeRequestRate ?? c.attributeRate,
            timeoutMs: c.attributeTimeoutMs,
          },
        }
      : {}),
  };
}
