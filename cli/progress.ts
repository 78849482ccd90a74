/**
 * Progress on stderr: a spinner line when stderr is a terminal, plain lines otherwise (CI logs,
 * pipes), so logs never fill with control characters.
 */

export interface Progress {
  /** Begins a step. */
  start(text: string): void;
  /** Changes the current step's status text. */
  update(text: string): void;
  /** Ends the current step as done. */
  succeed(text?: string): void;
  /** Ends the current step as failed. */
  fail(text?: string): void;
  /** A line of its own, outside any step. */
  info(text: string): void;
}

export interface Stream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A text progress bar, e.g. `[#####-----]  50%`. */
export function bar(percent: number, width = 20): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const filled = Math.round((p / 100) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(p).padStart(3)}%`;
}

/** Spinner on a TTY, lines otherwise. */
export function streamProgress(stream: Stream, tty: boolean = stream.isTTY === true): Progress {
  return tty ? new SpinnerProgress(stream) : new LineProgress(stream);
}

class LineProgress implements Progress {
  private current?: string;
  private last?: string;
  constructor(private readonly out: Stream) {}
  start(text: string): void {
    this.current = text;
    this.last = text;
    this.out.write(`… ${text}\n`);
  }
  update(text: string): void {
    if (text === this.last) return;
    this.last = text;
    this.out.write(`  ${text}\n`);
  }
  succeed(text?: string): void {
    this.out.write(`✓ ${text ?? this.current ?? ""}\n`);
    this.current = this.last = undefined;
  }
  fail(text?: string): void {
    this.out.write(`✗ ${text ?? this.current ?? ""}\n`);
    this.current = this.last = undefined;
  }
  info(text: string): void {
    this.out.write(`${text}\n`);
  }
}

class SpinnerProgress implements Progress {
  private text?: string;
  private frame = 0;
  private timer?: ReturnType<typeof setInterval>;
  constructor(private readonly out: Stream) {}
  private draw(): void {
    if (this.text === undefined) return;
    this.out.write(`\r\x1b[K${FRAMES[this.frame++ % FRAMES.length]} ${this.text}`);
  }
  private stop(symbol: string, text: string | undefined): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.out.write(`\r\x1b[K${symbol} ${text ?? this.text ?? ""}\n`);
    this.text = undefined;
  }
  start(text: string): void {
    if (this.text !== undefined) this.stop("…", undefined);
    this.text = text;
    this.draw();
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref?.();
  }
  update(text: string): void {
    this.text = text;
    this.draw();
  }
  succeed(text?: string): void {
    this.stop("✓", text);
  }
  fail(text?: string): void {
    this.stop("✗", text);
  }
  info(text: string): void {
    if (this.text !== undefined) this.out.write("\r\x1b[K");
    this.out.write(`${text}\n`);
    this.draw();
  }
}

/** Records every call; for tests. */
export class RecordingProgress implements Progress {
  readonly events: string[] = [];
  start(text: string): void {
    this.events.push(`start: ${text}`);
  }
  update(text: string): void {
    this.events.push(`update: ${text}`);
  }
  succeed(text?: string): void {
    this.events.push(`succeed: ${text ?? ""}`);
  }
  fail(text?: string): void {
    this.events.push(`fail: ${text ?? ""}`);
  }
  info(text: string): void {
    this.events.push(`info: ${text}`);
  }
}
