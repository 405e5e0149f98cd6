/**
 * Vendor profiles: how one vendor's controller names, orders and scales an embodiment's channels, and what
 * its action means. Canonical vectors are in the embodiment's order, in radians and metres (DESIGN.md,
 * "Canonical vectors"); a vendor vector is in the vendor's order and units.
 *
 * Per channel: vendor = sign x scale x canonical + offset (positions), vendor = sign x scale x canonical
 * (velocities, no offset). Torque vendors take joint torques (N m) and gripper force (N); a canonical
 * position target becomes a torque through the profile's documented PD law
 *   tau = kp (q_target - q) - kd qdot        (canonical units, then sign-mapped to the vendor)
 * and a vendor torque back to the target it encodes with q_target = q + (tau + kd qdot) / kp, which is exact
 * for the same state. `actionKind` tells the spine which of the two a vendor's actions are.
 */
import { TgError } from '../../errors/index.ts';

export interface VendorChannel {
  /** The vendor's name for this channel. */
  vendorName: string;
  /** The canonical channel it is (a name from the embodiment's state names). */
  canonical: string;
  /** Unit factor: 180/pi for degrees, 1000 for millimetres, 1 for SI. */
  scale: number;
  /** +1, or -1 where the vendor's positive direction is the canonical negative one. */
  sign: 1 | -1;
  /** Vendor-unit zero offset (vendor zero = canonical -offset/(sign x scale)). */
  offset: number;
  /** The vendor's unit for positions (documentation and UI): 'deg', 'rad', 'mm', 'm'. */
  unit: string;
}

export interface PdLaw {
  /** Per canonical channel, canonical order: N m/rad (joints), N/m (gripper). */
  kp: number[];
  /** Per canonical channel: N m s/rad, N s/m. */
  kd: number[];
}

export interface VendorProfile {
  name: string;
  /** The embodiment this profile speaks for. */
  embodiment: string;
  description: string;
  /** Canonical channel names, canonical order (the embodiment's state names). */
  canonicalNames: string[];
  /** Vendor channels in vendor order. */
  channels: VendorChannel[];
  /** What the vendor's action vector holds. */
  actionKind: 'position' | 'torque';
  /** For torque vendors: the PD law between canonical position targets and vendor torques. */
  pd?: PdLaw;
}

/** A robot state in canonical order and units. */
export interface CanonicalState {
  position: number[];
  velocity: number[];
}

export function channel(
  vendorName: string,
  canonical: string,
  unit: 'deg' | 'rad' | 'mm' | 'm',
  opts: { sign?: 1 | -1; offset?: number } = {},
): VendorChannel {
  const scale = unit === 'deg' ? 180 / Math.PI : unit === 'mm' ? 1000 : 1;
  return { vendorName, canonical, scale, sign: opts.sign ?? 1, offset: opts.offset ?? 0, unit };
}

/** Index of each vendor channel in the canonical vector; throws unless the channels are a permutation. */
export function channelIndex(profile: VendorProfile): number[] {
  const pos = new Map(profile.canonicalNames.map((n, i) => [n, i]));
  const seen = new Set<number>();
  const index = profile.channels.map((c) => {
    const i = pos.get(c.canonical);
    if (i === undefined || seen.has(i)) {
      throw new TgError(
        'INPUT_INVALID',
        `vendor profile ${profile.name}: channel ${c.vendorName} maps to ${i === undefined ? 'unknown' : 'repeated'} canonical channel '${c.canonical}'`,
      );
    }
    seen.add(i);
    return i;
  });
  if (index.length !== profile.canonicalNames.length) {
    throw new TgError(
      'INPUT_INVALID',
      `vendor profile ${profile.name}: ${index.length} channels for ${profile.canonicalNames.length} canonical channels`,
    );
  }
  if (
    profile.actionKind === 'torque' &&
    (profile.pd?.kp.length !== index.length || profile.pd.kd.length !== index.length)
  ) {
    throw new TgError(
      'INPUT_INVALID',
      `vendor profile ${profile.name}: torque actions need kp and kd per channel`,
    );
  }
  return index;
}

function checkLength(profile: VendorProfile, v: ArrayLike<number>, what: string): void {
  if (v.length !== profile.channels.length) {
    throw new TgError(
      'INPUT_INVALID',
      `vendor profile ${profile.name}: ${what} has ${v.length} values, expected ${profile.channels.length}`,
    );
  }
}

/** The vendor's channel names, vendor order. */
export function vendorNames(profile: VendorProfile): string[] {
  return profile.channels.map((c) => c.vendorName);
}

/** Canonical positions -> vendor positions (vendor order and units). */
export function toVendorPosition(profile: VendorProfile, canonical: ArrayLike<number>): number[] {
  checkLength(profile, canonical, 'canonical position');
  const index = channelIndex(profile);
  return profile.channels.map((c, k) => c.sign * c.scale * canonical[index[k]!]! + c.offset);
}

/** Vendor positions -> canonical positions. */
export function fromVendorPosition(profile: VendorProfile, vendor: ArrayLike<number>): number[] {
  checkLength(profile, vendor, 'vendor position');
  const index = channelIndex(profile);
  const out = new Array<number>(profile.channels.length);
  profile.channels.forEach((c, k) => {
    out[index[k]!] = (vendor[k]! - c.offset) / (c.sign * c.scale);
  });
  return out;
}

/** Canonical velocities -> vendor velocities (vendor units per second; offsets do not apply). */
export function toVendorVelocity(profile: VendorProfile, canonical: ArrayLike<number>): number[] {
  checkLength(profile, canonical, 'canonical velocity');
  const index = channelIndex(profile);
  return profile.channels.map((c, k) => c.sign * c.scale * canonical[index[k]!]!);
}

export function fromVendorVelocity(profile: VendorProfile, vendor: ArrayLike<number>): number[] {
  checkLength(profile, vendor, 'vendor velocity');
  const index = channelIndex(profile);
  const out = new Array<number>(profile.channels.length);
  profile.channels.forEach((c, k) => {
    out[index[k]!] = vendor[k]! / (c.sign * c.scale);
  });
  return out;
}

export interface VendorState {
  position: number[];
  velocity: number[];
}

export function toVendor(profile: VendorProfile, state: CanonicalState): VendorState {
  return {
    position: toVendorPosition(profile, state.position),
    velocity: toVendorVelocity(profile, state.velocity),
  };
}

export function fromVendor(profile: VendorProfile, state: VendorState): CanonicalState {
  return {
    position: fromVendorPosition(profile, state.position),
    velocity: fromVendorVelocity(profile, state.velocity),
  };
}

/** Torque actions map through the PD law, which needs where the joints are. */
function requireState(
  profile: VendorProfile,
  state: CanonicalState | undefined,
): asserts state is CanonicalState {
  if (!state)
    throw new TgError(
      'INPUT_INVALID',
      `vendor profile ${profile.name}: torque actions need the current state`,
    );
}

/**
 * A canonical action (position targets, canonical order) -> the vendor's action. Position vendors get the
 * targets in their units and order; torque vendors get PD torques (N m, N; sign-mapped, vendor order), which
 * need the current canonical state.
 */
export function toVendorAction(
  profile: VendorProfile,
  target: ArrayLike<number>,
  state?: CanonicalState,
): number[] {
  if (profile.actionKind === 'position') return toVendorPosition(profile, target);
  checkLength(profile, target, 'canonical action');
  requireState(profile, state);
  const index = channelIndex(profile);
  const { kp, kd } = profile.pd!;
  return profile.channels.map((c, k) => {
    const i = index[k]!;
    return c.sign * (kp[i]! * (target[i]! - state.position[i]!) - kd[i]! * state.velocity[i]!);
  });
}

/** The vendor's action -> the canonical position targets it encodes (torque vendors: the inverse PD law). */
export function fromVendorAction(
  profile: VendorProfile,
  action: ArrayLike<number>,
  state?: CanonicalState,
): number[] {
  if (profile.actionKind === 'position') return fromVendorPosition(profile, action);
  checkLength(profile, action, 'vendor action');
  requireState(profile, state);
  const index = channelIndex(profile);
  const { kp, kd } = profile.pd!;
  const out = new Array<number>(profile.channels.length);
  profile.channels.forEach((c, k) => {
    const i = index[k]!;
    const tau = action[k]! / c.sign;
    out[i] = state.position[i]! + (tau + kd[i]! * state.velocity[i]!) / kp[i]!;
  });
  return out;
}
