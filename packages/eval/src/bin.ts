#!/usr/bin/env node
import { runCli } from './node.js';

process.exitCode = await runCli(process.argv.slice(2));
