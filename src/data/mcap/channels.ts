/**
 * The MCAP vocabulary of an exported episode: topics, their schemas and how a LeRobot feature maps onto
 * them. Messages are JSON (MCAP well-known message encoding "json", schema encoding "jsonschema"), which
 * Foxglove decodes for its own schemas as well as for ad-hoc ones.
 *
 *   /joint_states        foxglove.JointStates      observation.state (+ observation.velocity / .effort)
 *   /tf                  foxglove.FrameTransforms  one transform per joint (see ./kinematics.ts)
 *   /action              tg.Vector                 action
 *   /tactile/<pad>       tg.Tactile                observation.tactile.<pad>
 *   /wrench/<site>       tg.Wrench                 observation.wrench.<site> (6 values: force xyz, torque xyz)
 *   /depth/<camera>      foxglove.RawImage         observation.depth.<camera> (32FC1, metres)
 *   /features/<name>     tg.Vector                 any other float feature
 */
import { FrameTransforms, JointStates, RawImage } from '@foxglove/schemas/jsonschema.js';

export const JSON_ENCODING = 'json';
export const JSONSCHEMA_ENCODING = 'jsonschema';

export const TOPIC_JOINT_STATES = '/joint_states';
export const TOPIC_TF = '/tf';
export const TOPIC_ACTION = '/action';

export const FEATURE_STATE = 'observation.state';
/** Velocity and effort features, first match wins (the design names them only as "velocities"). */
export const VELOCITY_FEATURES = ['observation.velocity', 'observation.state.velocity'] as const;
export const EFFORT_FEATURES = ['observation.effort', 'observation.state.effort'] as const;
export const FEATURE_ACTION = 'action';
export const PREFIX_TACTILE = 'observation.tactile.';
export const PREFIX_WRENCH = 'observation.wrench.';
export const PREFIX_DEPTH = 'observation.depth.';

const TIME = {
  type: 'object',
  title: 'time',
  properties: { sec: { type: 'integer', minimum: 0 }, nsec: { type: 'integer', minimum: 0 } },
  required: ['sec', 'nsec'],
};
const VECTOR3 = {
  type: 'object',
  properties: { x: { type: 'number' }, y: { type: 'number' }, z: { type: 'number' } },
  required: ['x', 'y', 'z'],
};

export const VECTOR_SCHEMA = {
  title: 'tg.Vector',
  description: 'One frame of a LeRobot float feature: its element names and values.',
  type: 'object',
  properties: {
    timestamp: TIME,
    feature: { type: 'string' },
    names: { type: 'array', items: { type: 'string' } },
    values: { type: 'array', items: { type: 'number' } },
  },
  required: ['timestamp', 'feature', 'names', 'values'],
};

export const TACTILE_SCHEMA = {
  title: 'tg.Tactile',
  description: 'One tactile pad reading: per-taxel values (names from the dataset feature).',
  type: 'object',
  properties: {
    timestamp: TIME,
    pad: { type: 'string' },
    names: { type: 'array', items: { type: 'string' } },
    values: { type: 'array', items: { type: 'number' } },
  },
  required: ['timestamp', 'pad', 'names', 'values'],
};

export const WRENCH_SCHEMA = {
  title: 'tg.Wrench',
  description: 'Force (N) and torque (N m) at a site, in the site frame.',
  type: 'object',
  properties: { timestamp: TIME, frame_id: { type: 'string' }, force: VECTOR3, torque: VECTOR3 },
  required: ['timestamp', 'frame_id', 'force', 'torque'],
};

export interface SchemaDef {
  name: string;
  json: object;
}

export const SCHEMAS = {
  jointStates: { name: 'foxglove.JointStates', json: JointStates },
  frameTransforms: { name: 'foxglove.FrameTransforms', json: FrameTransforms },
  rawImage: { name: 'foxglove.RawImage', json: RawImage },
  vector: { name: 'tg.Vector', json: VECTOR_SCHEMA },
  tactile: { name: 'tg.Tactile', json: TACTILE_SCHEMA },
  wrench: { name: 'tg.Wrench', json: WRENCH_SCHEMA },
} as const satisfies Record<string, SchemaDef>;

/** "observation.foo.bar" -> "/features/observation/foo/bar". */
export function featureTopic(feature: string): string {
  return `/features/${feature.replaceAll('.', '/')}`;
}
