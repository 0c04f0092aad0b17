import type { Command } from 'commander';
export function registerBenchCommand(_program: Command): void {}
