// The keys of the `rpc` and `attributes` workloads (docs/workloads.md#rpc, #attributes): how often
// the lab calls, in which form, how its devices answer, and when a round trip counts as timed out.
// A part of the key table (src/config/keys.ts). Rates are for this lab (instance) as a whole; each
// shard calls its own devices at its share.
import type { KeyDef } from './keys.js';
import { int, num, oneOf, optNum } from './parsers.js';

export const RPC_KEYS = {
  RPC_RATE: {
    prop: 'rpcRate',
    schema: num(0, 100_000),
    def: '10',
    group: 'Workloads',
    doc: 'Server-side RPC calls per second through REST, all devices together (`rpc` workload; 0 = none, e.g. only client-side RPC).',
  },
  RPC_MODE: {
    prop: 'rpcMode',
    schema: oneOf(['oneway', 'twoway'] as const),
    def: 'twoway',
    group: 'Workloads',
    doc: '`twoway`: the REST call returns the device’s response; `oneway`: it returns once ThingsBoard has sent the request to the device.',
  },
  RPC_API: {
    prop: 'rpcApi',
    schema: oneOf(['v2', 'v1'] as const),
    def: 'v2',
    group: 'Workloads',
    doc: 'REST form of the calls: `v2` = `/api/rpc/{mode}/{deviceId}` (504 on timeout), `v1` = `/api/plugins/rpc/{mode}/{deviceId}` (408 on timeout, 409 without a session).',
  },
  RPC_TIMEOUT_MS: {
    prop: 'rpcTimeoutMs',
    schema: int(1000, 600_000),
    def: '10000',
    group: 'Workloads',
    doc: 'The calls’ `timeout`, ms (ThingsBoard raises it to its `min_timeout`, 5000 by default); also how long a client-side RPC waits for its response.',
  },
  RPC_RESPONSE_DELAY_MS: {
    prop: 'rpcResponseDelayMs',
    schema: int(0, 600_000),
    def: '0',
    group: 'Workloads',
    doc: 'The simulated devices answer an RPC request this long after it arrived, ms.',
  },
  RPC_FAILURE_SHARE: {
    prop: 'rpcFailureShare',
    schema: num(0, 1),
    def: '0',
    group: 'Workloads',
    doc: 'Share 0..1 of RPC requests the simulated devices leave unanswered (each ends as ThingsBoard’s timeout).',
  },
  RPC_TARGETS: {
    prop: 'rpcTargets',
    schema: oneOf(['devices', 'children', 'all'] as const),
    def: 'devices',
    group: 'Workloads',
    doc: "Whom the server-side calls go to: the MQTT `devices`, the `gateway` workload's `children` (through their gateways, `v1/gateway/rpc`), or `all` of them; `children`/`all` need `gateway` in WORKLOADS.",
  },
  RPC_CLIENT_RATE: {
    prop: 'rpcClientRate',
    schema: num(0, 100_000),
    def: '0',
    group: 'Workloads',
    doc: 'Client-side RPC calls per second from the devices (`v1/devices/me/rpc/request/{n}`); only a rule chain with an "rpc call reply" node answers them (the embedded emulator does).',
  },
  ATTRIBUTE_RATE: {
    prop: 'attributeRate',
    schema: num(0, 100_000),
    def: '10',
    group: 'Workloads',
    doc: 'Shared-attribute writes per second through REST, all devices together (`attributes` workload); each push to the device is timed.',
  },
  ATTRIBUTE_REQUEST_RATE: {
    prop: 'attributeRequestRate',
    schema: optNum(0, 100_000),
    def: '',
    group: 'Workloads',
    doc: 'Attribute requests per second from the devices (`v1/devices/me/attributes/request/{n}`; default: ATTRIBUTE_RATE; 0 = none).',
  },
  ATTRIBUTE_TIMEOUT_MS: {
    prop: 'attributeTimeoutMs',
    schema: int(100, 600_000),
    def: '10000',
    group: 'Workloads',
    doc: 'A written attribute whose push (or a request whose response) has not arrived after this long is a timeout, ms.',
  },
} as const satisfies Record<string, KeyDef>;

/** `tblab run` / `suite` flags of these keys (commander's camelCase option name → key). */
export const RPC_FLAG_KEYS = {
  rpcRate: 'RPC_RATE',
  rpcMode: 'RPC_MODE',
  rpcApi: 'RPC_API',
  rpcTimeout: 'RPC_TIMEOUT_MS',
  rpcResponseDelay: 'RPC_RESPONSE_DELAY_MS',
  rpcFailureShare: 'RPC_FAILURE_SHARE',
  rpcClientRate: 'RPC_CLIENT_RATE',
  rpcTargets: 'RPC_TARGETS',
  attributeRate: 'ATTRIBUTE_RATE',
  attributeRequestRate: 'ATTRIBUTE_REQUEST_RATE',
  attributeTimeout: 'ATTRIBUTE_TIMEOUT_MS',
} as const;
