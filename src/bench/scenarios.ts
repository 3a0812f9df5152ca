/** The bench's scenarios, in the order `npm run bench` runs them (src/bench/README.md). */
export const SCENARIOS = [
  'ceiling-kcat',
  'ceiling-kafkajs',
  'variants',
  'sites',
  'genome',
  'cohort',
  'old-way',
  'embeddings-json',
  'embeddings-f32',
  'embeddings-arrow',
] as const;
export type Scenario = (typeof SCENARIOS)[number];
