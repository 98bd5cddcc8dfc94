// `swarmctl usage --jsonl | head -2`: once the reader has what it wants it closes the pipe, and
// swarmctl's next write fails with EPIPE. That is a normal end of the command, not a crash.

/** Exit 0 at once, printing nothing, when the reader of stream (stdout, stderr) has gone away. */
export function endQuietlyWhenReaderCloses(
  stream: NodeJS.WritableStream,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    exit(0);
  });
}
