export type {
  Embodiment,
  EmbodimentActuator,
  EmbodimentCamera,
  EmbodimentJoint,
  EmbodimentName,
  EmbodimentSensor,
  SafetyEnvelope,
} from './embodiment.ts';
export {
  channelMaxVelocity,
  EMBODIMENT_NAMES,
  embodimentHash,
  loadEmbodiment,
  normalizeMjcf,
  readMjcf,
} from './embodiment.ts';
