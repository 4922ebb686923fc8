/**
 * "Later" transitions (a refund failing after the fact, a payout getting paid, async
 * capture filling in the balance transaction). Each runs on its own timer, and tests
 * can run every pending one at once (`runPending`) instead of waiting.
 */
interface Task {
  label: string;
  dueAt: number;
  run: () => void;
  timer: NodeJS.Timeout;
}

export class Scheduler {
  private readonly tasks = new Set<Task>();

  constructor(private readonly onError: (label: string, err: unknown) => void) {}

  later(delayMs: number, label: string, run: () => void): void {
    const task: Task = {
      label,
      dueAt: Date.now() + delayMs,
      run,
      timer: setTimeout(() => this.execute(task), delayMs),
    };
    task.timer.unref();
    this.tasks.add(task);
  }

  private execute(task: Task): void {
    if (!this.tasks.delete(task)) return;
    clearTimeout(task.timer);
    try {
      task.run();
    } catch (err) {
      this.onError(task.label, err);
    }
  }

  /** Runs every pending task now, oldest due first, including tasks those tasks schedule. */
  runPending(filter?: (label: string) => boolean): number {
    let n = 0;
    for (;;) {
      const due = [...this.tasks].filter((t) => !filter || filter(t.label)).sort((a, b) => a.dueAt - b.dueAt);
      if (due.length === 0) return n;
      for (const t of due) {
        this.execute(t);
        n++;
      }
    }
  }

  pending(): string[] {
    return [...this.tasks].map((t) => t.label);
  }

  clear(): void {
    for (const t of this.tasks) clearTimeout(t.timer);
    this.tasks.clear();
  }
}
