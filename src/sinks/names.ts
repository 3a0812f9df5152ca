/**
 * The sink names each pipeline accepts (`VARSTREAM_VARIANT_SINKS`, `VARSTREAM_EMBEDDING_SINKS`):
 * the configuration refuses any other at start, and registry.ts must have a factory for each (a
 * missing one is a type error). Kept apart from the registry so that reading the configuration
 * does not load the stores' native modules.
 */
export const VARIANT_SINKS = ['lancedb', 'kuzu'] as const;
export type VariantSinkName = (typeof VARIANT_SINKS)[number];
export const EMBEDDING_SINKS = ['lancedb'] as const;
export type EmbeddingSinkName = (typeof EMBEDDING_SINKS)[number];
