/** One line of the results table. */
export interface Row {
  figure: string;
  /** What was measured, and its value. */
  measured: string;
  baseline: string;
  /** Measured relative to baseline, oriented as the target reads (null: no ratio). */
  ratio: number | null;
  target: string;
  /** Whether the target was met (undefined: no target). */
  pass?: boolean | undefined;
  /** Half the range of the baseline's rounds over their median: how much the machine moved. */
  noise?: number | undefined;
}

export interface Context {
  quick: boolean;
  log(message: string): void;
}

export interface Figure {
  /** Name on the command line: `npm run bench -- drain`. */
  name: string;
  title: string;
  run(context: Context): Promise<Row[]>;
}
