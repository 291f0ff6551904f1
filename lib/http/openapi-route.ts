import type { RouteHandler } from './api-handler';
import { openApiDocument } from './openapi';

/**
 * GET /api/cron/openapi.json. A module of its own: the document is built from every route's
 * schemas, which the other routes' functions should not bundle.
 */
export const openApiRoute: RouteHandler = async (_request, { registry }) => ({
  status: 200,
  body: openApiDocument(registry),
});
