import { MultiBar, SingleBar } from 'cli-progress';

export interface Progress {
  update(sent: number): void;
  /** The upload is complete. */
  stop(): void;
}

function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/**
 * Upload progress on stderr (stdout stays for the result): a cli-progress bar on a terminal; in a
 * log (CI, a pipe) one plain line per 10 % (`upload 40% (20.0 of 50.0 MB)`), so the log stays short.
 */
export function uploadProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% | {sentMb}/{totalMb} MB | {speed} MB/s`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
    });
    const started = Date.now();
    bar.start(total, 0, { sentMb: '0.0', totalMb: megabytes(total), speed: '0.0' });
    return {
      update: (sent) => bar.update(sent, { sentMb: megabytes(sent), speed: megabytes((sent / Math.max(1, Date.now() - started)) * 1000) }),
      stop: () => bar.stop(),
    };
  }
  let shown = -1;
  const line = (sent: number) => {
    const percent = total === 0 ? 100 : Math.floor((sent / total) * 100);
    const step = Math.floor(percent / 10) * 10;
    if (step <= shown) return;
    shown = step;
    stream.write(`${label} ${step}% (${megabytes(sent)} of ${megabytes(total)} MB)\n`);
  };
  line(0);
  return { update: line, stop: () => line(total) };
}

/** The progress of several uploads at once (`shipgate publish` with many files). */
export interface ProgressGroup {
  /** A bar (or plain lines) for one file of `total` bytes. */
  add(label: string, total: number): Progress;
  /** A message that does not garble the bars. */
  log(line: string): void;
  /** Stops every bar, when all uploads are done. */
  stop(): void;
}

/**
 * One cli-progress bar per file on a terminal (a MultiBar, so parallel uploads each keep their
 * line; labels padded to `labelWidth` so the bars align); in a log, each file's plain lines per
 * 10 % as uploadProgress writes them.
 */
export function uploadProgressGroup(labelWidth = 0, stream: NodeJS.WriteStream = process.stderr): ProgressGroup {
  if (!stream.isTTY) {
    return { add: (label, total) => uploadProgress(label, total, stream), log: (line) => void stream.write(`${line}\n`), stop: () => undefined };
  }
  const bars = new MultiBar({
    format: '{label} [{bar}] {percentage}% | {sentMb}/{totalMb} MB | {speed} MB/s',
    stream,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
  });
  // MultiBar shows logged lines at its next redraw: only while bars are on screen
  let drawing = false;
  return {
    add: (label, total) => {
      drawing = true;
      const started = Date.now();
      const bar = bars.create(total, 0, { label: label.padEnd(labelWidth), sentMb: '0.0', totalMb: megabytes(total), speed: '0.0' });
      return {
        update: (sent) => bar.update(sent, { sentMb: megabytes(sent), speed: megabytes((sent / Math.max(1, Date.now() - started)) * 1000) }),
        stop: () => bar.update(total, { sentMb: megabytes(total) }),
      };
    },
    log: (line) => (drawing ? bars.log(`${line}\n`) : void stream.write(`${line}\n`)),
    stop: () => {
      if (drawing) {
        // a last redraw writes the lines logged since the previous one (stop alone drops them)
        bars.update();
        bars.stop();
      }
      drawing = false;
    },
  };
}
