import { execFileSync } from 'node:child_process';

/**
 * The commit a bench runs on. Read it when the bench starts: its consumers load the working tree's
 * code when they start, and a commit made during a long run must not be the one recorded.
 */
export function headCommit(): string {
  return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
}
