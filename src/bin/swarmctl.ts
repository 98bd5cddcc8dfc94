#!/usr/bin/env node
// swarmctl: ask the local swarmd over its control socket. All logic lives in src/cli/.
import { endQuietlyWhenReaderCloses } from '../cli/closed-pipe.js';
import { runCli } from '../cli/program.js';

// Every command prints through these two streams: `swarmctl … | head -1` ends quietly, exit 0.
endQuietlyWhenReaderCloses(process.stdout);
endQuietlyWhenReaderCloses(process.stderr);

process.exitCode = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  write: (s) => process.stdout.write(s),
  styled: process.stderr.isTTY === true && !process.env.NO_COLOR,
});
