/** One unit of janitor work. Each tick runs every job once; a job reports what it did as named counts. */
export interface JanitorJob {
  readonly name: string;
  run(): Promise<JobCounts>;
}

export type JobCounts = Record<string, number>;
