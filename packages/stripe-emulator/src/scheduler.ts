/**
 * "Later" transitions (a refund failing after the fact, a payout getting paid, async
 * capture filling in the balance transaction). One timer serves all tasks (armed for the
 * earliest due one), so a busy emulator does not create a timer per payment, and tests can
 * run every pending task at once (`runPending`) instead of waiting.
 */
interface Task {
  label: string;
  dueAt: number;
  seq: number;
  run: () => void;
}

export class Scheduler {
  private tasks: Task[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private seq = 0;

  constructor(private readonly onError: (label: string, err: unknown) => void) {}

  later(delayMs: number, label: string, run: () => void): void {
    const dueAt = Date.now() + delayMs;
    this.tasks.push({ label, dueAt, seq: this.seq++, run });
    if (dueAt < this.timerDue) this.arm(dueAt);
  }

  private arm(dueAt: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = dueAt;
    this.timer = setTimeout(() => this.fire(), Math.max(0, dueAt - Date.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = Date.now();
    this.runWhere((t) => t.dueAt <= now);
    const next = this.tasks.reduce((min, t) => Math.min(min, t.dueAt), Infinity);
    if (next !== Infinity) this.arm(next);
  }

  private runWhere(pick: (t: Task) => boolean): number {
    const due = this.tasks.filter(pick).sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    if (due.length === 0) return 0;
    const chosen = new Set(due);
    this.tasks = this.tasks.filter((t) => !chosen.has(t));
    for (const t of due) {
      try {
        t.run();
      } catch (err) {
        this.onError(t.label, err);
      }
    }
    return due.length;
  }

  /** Runs every pending task now, oldest due first, including tasks those tasks schedule. */
  runPending(filter?: (label: string) => boolean): number {
    let n = 0;
    for (;;) {
      const ran = this.runWhere((t) => !filter || filter(t.label));
      if (ran === 0) return n;
      n += ran;
    }
  }

  pending(): string[] {
    return this.tasks.map((t) => t.label);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    this.tasks = [];
  }
}
