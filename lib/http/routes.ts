import * as alerts from './alerts-routes';
import type { RouteHandler } from './api-handler';
import { getJobAuditRoute, listAuditRoute } from './audit-routes';
import { backfillJobRoute } from './backfill-route';
import * as handlers from './handlers';
import { openApiRoute } from './openapi-route';
import type { RouteName } from './route-table';
import { pauseJobRoute, resumeJobRoute } from './pause-handlers';
import { getRunLogRoute } from './run-log-route';
import { getRunRoute, runJobNowRoute } from './run-route';
import { getSystemRoute } from './system-route';
import { jobNextSlotsRoute, previewScheduleRoute } from './schedule-preview-route';
import { listAllRunsRoute } from './runs-route';

/**
 * The handler of each route-table entry, by name; `functions/<name>.ts` exports the same one.
 * Typed by `RouteName`, so a route without a handler (or a handler without a route) does not compile.
 */
export const routeHandlers: Record<RouteName, RouteHandler> = {
  health: handlers.health,
  openapi: openApiRoute,
  'list-jobs': handlers.listJobsRoute,
  'create-job': handlers.createJobRoute,
  'get-job': handlers.getJobRoute,
  'update-job': handlers.updateJobRoute,
  'delete-job': handlers.deleteJobRoute,
  'run-job-now': runJobNowRoute,
  'get-run': getRunRoute,
  'pause-job': pauseJobRoute,
  'resume-job': resumeJobRoute,
  'backfill-job': backfillJobRoute,
  'list-runs': handlers.listRunsRoute,
  'run-sweep': handlers.runSweepRoute,
  'list-executors': handlers.listExecutorsRoute,
  'get-run-log': getRunLogRoute,
  'get-system': getSystemRoute,
  'list-all-runs': listAllRunsRoute,
  'get-job-audit': getJobAuditRoute,
  'list-audit': listAuditRoute,
  'get-job-next-slots': jobNextSlotsRoute,
  'preview-schedule': previewScheduleRoute,
  'list-alert-destinations': alerts.listAlertDestinationsRoute,
  'create-alert-destination': alerts.createAlertDestinationRoute,
  'get-alert-destination': alerts.getAlertDestinationRoute,
  'update-alert-destination': alerts.updateAlertDestinationRoute,
  'delete-alert-destination': alerts.deleteAlertDestinationRoute,
  'test-alert-destination': alerts.testAlertDestinationRoute,
  'list-alert-rules': alerts.listAlertRulesRoute,
  'create-alert-rule': alerts.createAlertRuleRoute,
  'get-alert-rule': alerts.getAlertRuleRoute,
  'update-alert-rule': alerts.updateAlertRuleRoute,
  'delete-alert-rule': alerts.deleteAlertRuleRoute,
  'list-alert-deliveries': alerts.listAlertDeliveriesRoute,
};
