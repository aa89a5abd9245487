/**
 * Verification pairs from labelled embeddings: the cosine score and same/different label of every
 * pair i < j (embeddings already L2-normalised).
 */
export function allPairs(embeddings: Float32Array, labels: ArrayLike<number>, dim: number): { scores: Float32Array; same: Uint8Array } {
  const n = labels.length;
  const count = (n * (n - 1)) / 2;
  const scores = new Float32Array(count);
  const same = new Uint8Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += embeddings[i * dim + c]! * embeddings[j * dim + c]!;
      scores[k] = s;
      same[k++] = labels[i] === labels[j] ? 1 : 0;
    }
  }
  return { scores, same };
}
