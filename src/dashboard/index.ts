// The dashboard's public surface: the live server, the report view, and the control token.
export { buildDashboard, type Dashboard, type DashboardOptions } from './server/dashboard.js';
export { serveReport, serveReportDashboard, timelineToSeries, type ServeReportOptions } from './server/serve-report.js';
export { createControlToken, readControlToken, controlTokenPath } from './server/control-token.js';
export { PrometheusExporter } from './server/prometheus.js';
export { exposureWarning, isLoopbackName } from './server/host-guard.js';
