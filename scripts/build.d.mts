// Types of scripts/build.mjs for the TypeScript that imports it (bench/run.ts, the build test).
import type { BuildOptions } from 'esbuild';

export declare const root: string;
export declare const esbuildOptions: BuildOptions;
export declare const serviceEntries: Readonly<Record<string, string>>;
export declare function buildBundle(outdir: string, entryPoints: Readonly<Record<string, string>>): Promise<string>;
export declare function buildService(outdir?: string): Promise<string>;
