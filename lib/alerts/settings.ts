import { createEgressClient, type EgressClient } from '../egress/http-client';

/** How alert destinations are checked and reached; built once at start-up. */
export interface AlertSettings {
  /** The guard every destination URL passes, on creation and at each delivery (lib/egress). */
  egress: EgressClient;
  /**
   * Test-only: accept http:// URLs (a loopback receiver in a test). Set in code where a test
   * builds its app, together with the egress guard's loopback override; nothing else sets it.
   */
  allowPlainHttp?: boolean;
}

export function defaultAlertSettings(): AlertSettings {
  return { egress: createEgressClient() };
}
