#!/usr/bin/env node
import { CommanderError } from 'commander';
import { formatError } from './errors';
import { processIo } from './io';
import { buildProgram } from './program';

/** Entry point of the `switchyard` command. */
async function main(argv: string[]): Promise<number> {
  const io = processIo();
  const result = { exitCode: 0 };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv);
    return result.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander already printed it
    io.stderr.write(`${formatError(err)}\n`);
    return 1;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${formatError(err)}\n`);
    process.exitCode = 1;
  },
);
