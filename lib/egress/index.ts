export { forbiddenAddressReason, embeddedIPv4, type AddressPolicy } from './address-policy';
export {
  createEgressClient,
  EgressRefusedError,
  type EgressClient,
  type EgressRequest,
  type EgressResponse,
  type Resolver,
} from './http-client';
export {
  generateSigningSecret,
  signMessage,
  SIGNING_SECRET_PATTERN,
  type SignedHeaders,
} from './signing';
