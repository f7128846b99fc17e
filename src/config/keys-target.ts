// The configuration keys that say where the target is and how to reach it (ThingsBoard's REST API and
// its MQTT transport, the fleet's names): the first part of the key table (src/config/keys.ts).
import type { KeyDef } from './keys.js';
import { bool, int, str, optStr, httpUrl, optHttpUrl, oneOf, endpointList } from './parsers.js';

export const TARGET_KEYS = {
  TB_URL: { prop: 'tbUrl', schema: httpUrl, def: 'http://127.0.0.1:8080', group: 'ThingsBoard', doc: 'ThingsBoard REST base URL.' },
  TB_USERNAME: { prop: 'tbUsername', schema: str, def: 'tenant@thingsboard.org', group: 'ThingsBoard', doc: 'Tenant administrator user.' },
  TB_PASSWORD: {
    prop: 'tbPassword',
    schema: str,
    def: 'tenant',
    group: 'ThingsBoard',
    doc: 'Tenant administrator password.',
    secret: true,
  },
  TB_PARENT_URL: {
    prop: 'tbParentUrl',
    schema: optHttpUrl,
    def: '',
    group: 'ThingsBoard',
    doc: 'Parent (cloud) server that mirrors this one (Edge setups); deletions are mirrored there.',
  },
  TB_PARENT_USERNAME: {
    prop: 'tbParentUsername',
    schema: optStr,
    def: '',
    group: 'ThingsBoard',
    doc: 'Parent server user (default: TB_USERNAME).',
  },
  TB_PARENT_PASSWORD: {
    prop: 'tbParentPassword',
    schema: optStr,
    def: '',
    group: 'ThingsBoard',
    doc: 'Parent server password (default: TB_PASSWORD).',
    secret: true,
  },

  DEVICE_PREFIX: {
    prop: 'devicePrefix',
    schema: str.refine((s) => /^[A-Za-z0-9_.-]+$/.test(s), 'expected letters, digits, _ . -'),
    def: 'sim',
    group: 'Fleet',
    doc: 'Device names are <prefix>-NNN (zero-padded to at least 3 digits).',
  },
  DEVICE_COUNT: { prop: 'deviceCount', schema: int(1, 10_000_000), def: '100', group: 'Fleet', doc: 'Number of devices in the fleet.' },
  DEVICE_LABEL: { prop: 'deviceLabel', schema: optStr, def: 'tb-load-lab', group: 'Fleet', doc: 'Label set on provisioned devices.' },
  DEVICE_TYPE: {
    prop: 'deviceType',
    schema: optStr,
    def: '',
    group: 'Fleet',
    doc: 'Device type (profile name) when DEVICE_PROFILE_ID is not set; empty = tenant default profile.',
  },
  DEVICE_PROFILE_ID: {
    prop: 'deviceProfileId',
    schema: optStr,
    def: '',
    group: 'Fleet',
    doc: 'Device profile UUID; empty = DEVICE_TYPE, else the default profile.',
  },
  PROVISION_CONCURRENCY: {
    prop: 'provisionConcurrency',
    schema: int(1, 512),
    def: '32',
    group: 'REST',
    doc: 'Concurrent REST requests while provisioning/deleting.',
  },
  REST_TIMEOUT_MS: {
    prop: 'restTimeoutMs',
    schema: int(100, 600_000),
    def: '15000',
    group: 'REST',
    doc: 'Timeout of one REST request, ms.',
  },
  REST_RETRIES: {
    prop: 'restRetries',
    schema: int(0, 50),
    def: '6',
    group: 'REST',
    doc: 'Retries of one REST request on 429, 5xx and network errors (backoff with jitter; Retry-After honoured).',
  },
  HTTP_PROXY: { prop: 'httpProxy', schema: optStr, def: '', group: 'REST', doc: 'Proxy for http:// REST URLs.' },
  HTTPS_PROXY: { prop: 'httpsProxy', schema: optStr, def: '', group: 'REST', doc: 'Proxy for https:// REST URLs.' },
  NO_PROXY: { prop: 'noProxy', schema: optStr, def: '', group: 'REST', doc: 'Hosts that bypass the proxy (comma-separated).' },

  MQTT_HOST: { prop: 'mqttHost', schema: optStr, def: '', group: 'MQTT', doc: 'MQTT host; empty = the host of TB_URL.' },
  MQTT_PORT: { prop: 'mqttPort', schema: int(1, 65535), def: '1883', group: 'MQTT', doc: 'MQTT port (8883 is the usual TLS port).' },
  MQTT_ENDPOINTS: {
    prop: 'mqttEndpoints',
    schema: endpointList,
    def: '',
    group: 'MQTT',
    doc:
      'Several MQTT endpoints (transport nodes of a cluster, several brokers): `host:port,host:port,…`, or a list in a scenario file. ' +
      'The device with fleet index i connects to endpoint (i − 1) mod K, always the same one (reconnects too, and on every instance); ' +
      'TLS and MQTT_VERSION apply to all. Empty = the one endpoint MQTT_HOST:MQTT_PORT (see docs/scaling.md#several-mqtt-endpoints).',
  },
  MQTT_TLS: { prop: 'mqttTls', schema: bool, def: '0', group: 'MQTT', doc: 'Connect over TLS.' },
  MQTT_CA_FILE: { prop: 'mqttCaFile', schema: optStr, def: '', group: 'MQTT', doc: 'PEM file of CA certificates to trust for TLS.' },
  MQTT_CERT_FILE: { prop: 'mqttCertFile', schema: optStr, def: '', group: 'MQTT', doc: 'Client certificate (PEM) for TLS.' },
  MQTT_KEY_FILE: { prop: 'mqttKeyFile', schema: optStr, def: '', group: 'MQTT', doc: 'Client key (PEM) for TLS.' },
  MQTT_TLS_INSECURE: {
    prop: 'mqttTlsInsecure',
    schema: bool,
    def: '0',
    group: 'MQTT',
    doc: 'Skip TLS certificate verification (testing only).',
  },
  MQTT_VERSION: {
    prop: 'mqttVersion',
    schema: oneOf(['3.1.1', '5'] as const),
    def: '3.1.1',
    group: 'MQTT',
    doc: 'MQTT protocol version: 3.1.1 or 5.',
  },
  MQTT_QOS: {
    prop: 'qos',
    schema: int(0, 1),
    def: '1',
    group: 'MQTT',
    doc: 'QoS of telemetry publishes (0 or 1; ThingsBoard grants at most 1).',
  },
  MQTT_KEEPALIVE_SEC: { prop: 'keepaliveSec', schema: int(0, 65535), def: '60', group: 'MQTT', doc: 'MQTT keepalive, seconds (0 = off).' },
} as const satisfies Record<string, KeyDef>;
