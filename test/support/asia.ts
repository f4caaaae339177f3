/** The Asia network (Lauritzen & Spiegelhalter 1988) in the shared Asia dataset's (asia.csv) letters: the reference DAG. */
export const ASIA_NODES = ["A", "S", "T", "L", "B", "E", "X", "D"];

export const ASIA_TRUTH: Array<[string, string]> = [
  ["A", "T"],
  ["S", "L"],
  ["S", "B"],
  ["T", "E"],
  ["L", "E"],
  ["E", "X"],
  ["E", "D"],
  ["B", "D"],
];
