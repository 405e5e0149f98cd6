import { TgError } from '../../errors/index.ts';
import { ACME, KUKA_LIKE, TORQUE_DRIVE } from './arm7.ts';
import type { VendorProfile } from './profile.ts';

export { ACME, KUKA_LIKE, TORQUE_DRIVE } from './arm7.ts';
export type { CanonicalState, PdLaw, VendorChannel, VendorProfile, VendorState } from './profile.ts';
export {
  channel,
  channelIndex,
  fromVendor,
  fromVendorAction,
  fromVendorPosition,
  fromVendorVelocity,
  toVendor,
  toVendorAction,
  toVendorPosition,
  toVendorVelocity,
  vendorNames,
} from './profile.ts';

export const VENDOR_PROFILES: readonly VendorProfile[] = [ACME, KUKA_LIKE, TORQUE_DRIVE];

export function getVendorProfile(name: string): VendorProfile {
  const p = VENDOR_PROFILES.find((v) => v.name === name);
  if (!p) {
    throw new TgError(
      'NOT_FOUND',
      `unknown vendor profile '${name}' (known: ${VENDOR_PROFILES.map((v) => v.name).join(', ')})`,
    );
  }
  return p;
}
