export type { Embodiment, EmbodimentName } from './embodiment.ts';
export { embodimentHash, loadEmbodiment, normalizeMjcf, readMjcf } from './embodiment.ts';
