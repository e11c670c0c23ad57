import { SingleBar } from 'cli-progress';

export interface Progress {
  update(sent: number): void;
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
