// `tblab limit`'s search core: pure modules, driven through LimitDriver (docs/limit.md).
export * from './types.js';
export { DEFAULT_SLO, defaultSlo, STEP_METRICS, parseSlo, judgeStep, formatValue } from './slo.js';
export { StepPlanner, checkPlan, defaultStepHold, MIN_STEP_HOLD_SEC, STEP_HOLD_INTERVALS } from './plan.js';
export { classifyTier, looksTransient, labRemedy } from './tier.js';
export { buildVerdict, loadText, LIMIT_EXIT } from './verdict.js';
export { runLimitSearch, stepHold, DEFAULT_SETTLE_SEC } from './search.js';
export { measureRunStep, sampleOf, type LiveSample, type RunStepInput } from './measure.js';
export { rateLimitOfStep, refillRate, bestRateLimit } from './rate-limit.js';
export { stepServerOf, limitServerOf, limitServerLines } from './server-triage.js';
export { runDriver, stepRun, type RunDriverOptions } from './run-driver.js';
