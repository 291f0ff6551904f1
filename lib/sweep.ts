// The sweep lives in lib/engine/. This path stays because the peer benchmark harness
// (shared/peers/bench.mjs) imports `lib/sweep.ts` from the project's checkout.
export * from './engine/sweep';
