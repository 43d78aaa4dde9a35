export { armCredential, isLoopbackEndpoint, LocalDevelopmentCredential } from './credential';
export { openArmSession, type ArmSession, type ArmSessionOptions } from './compute';
export { observe, type ArmObservation } from './observations';
export { appStores, storesFor } from './stores';
