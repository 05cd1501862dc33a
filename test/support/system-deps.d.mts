// Types of system-deps.mjs for the TypeScript benchmarks that install their own packages.
export function ensureSystemDeps(): void;
export function ensurePackages(needed: { bin: string; pkg: string }[]): void;
