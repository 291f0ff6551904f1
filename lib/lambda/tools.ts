import { log } from './app';
import type { LambdaTools } from './handler';
import { metrics } from './metrics';

/**
 * What every non-API function reports through (lib/lambda/handler.ts). Its own module, so the API
 * functions, which publish no metrics, do not bundle Powertools Metrics.
 */
export const tools: LambdaTools = { logger: log.powertools, metrics };
