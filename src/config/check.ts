/**
 * Settings that look meant for varstream but are not: an unknown `VARSTREAM_*` variable or an
 * unknown key of the VARSTREAM_CONFIG file is ignored by the loader, so it is named here, with the
 * nearest known name, for the start to warn about (a typo otherwise passes silently).
 */
import { closest, distance } from 'fastest-levenshtein';
import { ENV_BINDINGS } from './env-bindings.ts';

/** Variables varstream reads that set no configuration field. */
const OTHER_VARIABLES = ['VARSTREAM_CONFIG', 'VARSTREAM_SHARED_DIR'];

/** ` (did you mean X?)` when a known name is close enough to be the one meant. */
function suggestion(name: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const nearest = closest(name, known as string[]);
  return distance(name.toLowerCase(), nearest.toLowerCase()) <= Math.max(2, Math.floor(name.length / 4))
    ? `; did you mean ${nearest}?`
    : '';
}

/** Unknown `VARSTREAM_*` environment variables, each with the nearest known one. */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = [...ENV_BINDINGS.map((b) => b.env), ...OTHER_VARIABLES];
  return Object.keys(env)
    .filter((name) => name.startsWith('VARSTREAM_') && !known.includes(name))
    .sort()
    .map((name) => `unknown environment variable ${name} (ignored)${suggestion(name, known)}`);
}

/** Keys of a configuration file that are no field of the schema (dotted paths). */
export function unknownFileKeys(
  file: string,
  content: Record<string, unknown>,
  fields: readonly string[],
): string[] {
  const sections = new Set(fields.map((f) => f.split('.').slice(0, -1).join('.')).filter((s) => s !== ''));
  const out: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (fields.includes(path)) continue;
      if (sections.has(path) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        walk(value as Record<string, unknown>, path);
        continue;
      }
      out.push(
        `unknown key ${JSON.stringify(path)} in VARSTREAM_CONFIG = ${JSON.stringify(file)} (ignored)${suggestion(path, fields)}`,
      );
    }
  };
  walk(content, '');
  return out;
}
