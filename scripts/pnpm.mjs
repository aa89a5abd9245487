#!/usr/bin/env node
// Runs the pinned pnpm (package.json "packageManager") whether or not pnpm is installed,
// so that the README's commands work on a machine with only Node and npm.
// turbo needs `pnpm` on PATH; we put the directory of the pnpm we run there.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).packageManager;
const wanted = pinned.split('@')[1];
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', ORT_DISABLE_TELEMETRY: '1' };

const have = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
const args = process.argv.slice(2);
const result =
  have.status === 0 && have.stdout.trim() === wanted
    ? spawnSync('pnpm', args, { stdio: 'inherit', env })
    : spawnSync('npx', ['-y', `pnpm@${wanted}`, ...args], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
