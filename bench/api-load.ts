/**
 * The load generator of the API benchmark, in a process of its own so that it does not share an
 * event loop with the server it measures. Reads its plan as JSON from argv[2], prints autocannon's
 * figures as JSON on stdout.
 */
import autocannon from 'autocannon';

interface LoadPlan {
  url: string;
  method: 'GET' | 'POST';
  connections: number;
  durationSeconds: number;
  /**
   * Open loop: requests a second across all connections, sent on schedule whether or not earlier
   * ones were answered (latencies corrected for coordinated omission). Absent: closed loop, each
   * connection sends its next request when the last is answered, as fast as the server allows.
   */
  overallRate?: number;
  /** POST only: the prefix of the job names, each request gets a unique one. */
  namePrefix?: string;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as LoadPlan;
let counter = 0;

const result = await autocannon({
  url: plan.url,
  connections: plan.connections,
  duration: plan.durationSeconds,
  method: plan.method,
  ...(plan.overallRate === undefined ? {} : { overallRate: plan.overallRate }),
  ...(plan.method === 'POST'
    ? {
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            setupRequest: (request: Record<string, unknown>) => ({
              ...request,
              body: JSON.stringify({
                name: `${plan.namePrefix} ${(counter += 1)}`,
                schedule: 'every_5_minutes',
                function_name: 'noop',
                tenant_id: `tenant-${counter % 1000}`,
              }),
            }),
          },
        ],
      }
    : {}),
});

process.stdout.write(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    ok: result['2xx'],
    sent: counter,
  }),
);
