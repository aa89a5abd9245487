/** Called during long computations with the work done so far and the total (same unit). */
export type ProgressCallback = (done: number, total: number) => void;
