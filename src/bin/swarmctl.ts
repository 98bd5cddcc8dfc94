#!/usr/bin/env node
// swarmctl: ask the local swarmd over its control socket. All logic lives in src/cli/.
import { runCli } from '../cli/program.js';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  write: (s) => process.stdout.write(s),
  styled: process.stderr.isTTY === true && !process.env.NO_COLOR,
});
