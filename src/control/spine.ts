/** The spinal cord lives in ./spine/; this path stays for the loops that import it from here. */
export * from './spine/index.ts';
