/**
 * Typed columnar tables and their metadata: the contract every module shares.
 * Rows as objects exist only at the LLM and file boundaries (see data/rows.ts).
 */

/** Semantic type of a column, in SDV's single-table vocabulary. */
export type SdType = "numerical" | "categorical" | "boolean" | "datetime" | "id";

/** Numeric column (numerical, or datetime as epoch milliseconds UTC). NaN = missing. */
export interface NumericColumn {
  readonly kind: "numerical" | "datetime";
  readonly name: string;
  readonly values: Float64Array;
}

/**
 * Coded column (categorical, boolean or id). `codes[i]` indexes `levels`; -1 = missing.
 * Levels are in first-appearance order unless a function says otherwise; booleans use ["false", "true"].
 */
export interface CodedColumn {
  readonly kind: "categorical" | "boolean" | "id";
  readonly name: string;
  readonly codes: Int32Array;
  readonly levels: readonly string[];
}

export type Column = NumericColumn | CodedColumn;

/** A columnar table. All columns have `nRows` entries. Column order is the file's order. */
export interface Table {
  readonly nRows: number;
  readonly columns: readonly Column[];
}

/** A level of a coded column with its count in the real data (missing not counted). */
export interface LevelCount {
  readonly value: string;
  readonly count: number;
}

/** The most decimals a numerical column keeps (beyond it a double has no reliable decimal digits to keep). */
export const MAX_DECIMALS = 10;

/** The text of true and false in a boolean column. */
export interface BooleanLabels {
  readonly true: string;
  readonly false: string;
}

/** Everything we know about one column: the contract between data, prompts, validation and stats. */
export interface ColumnMeta {
  readonly name: string;
  readonly sdtype: SdType;
  /** numerical only: whether values are integral (SDV computer_representation Int64 vs Float). */
  readonly integer?: boolean;
  /**
   * numerical only: decimals of the real values (the most any value needs in its shortest text, capped at
   * MAX_DECIMALS; 0 for integer columns). Generated values are rounded to it (SDV learn_rounding_scheme).
   */
  readonly decimals?: number;
  /** numerical / datetime: observed min and max of the real data (datetime as epoch ms). */
  readonly min?: number;
  readonly max?: number;
  /** datetime only: whether values carry a time part ("datetime") or are dates ("date"). */
  readonly datetimeFormat?: "date" | "datetime";
  /**
   * datetime only: the real file wrote dates in several formats, numeric ones day first ("dmy") or month first
   * ("mdy") (data/dates.ts); kept so that a table read with this metadata reads them the same way.
   */
  readonly dateOrder?: "dmy" | "mdy";
  /** boolean only: how the real data spells true and false ("TRUE"/"FALSE", "Yes"/"No"); written back so. */
  readonly booleanLabels?: BooleanLabels;
  /** categorical / boolean: levels with real counts, most frequent first. */
  readonly levels?: readonly LevelCount[];
  /** Share of missing values in the real data, in [0, 1]. */
  readonly missingRate: number;
  /** Optional human description (user-provided wins over LLM-written). */
  readonly description?: string;
}

export interface Metadata {
  readonly columns: readonly ColumnMeta[];
  /** Target column for utility metrics and stratification, if any. */
  readonly target?: string;
  /** Number of rows of the real table the metadata was derived from. */
  readonly rowCount: number;
}

/** A row at the boundary: column name -> value (null = missing). Datetimes as ISO strings. */
export type RowValue = string | number | boolean | null;
export type Row = Record<string, RowValue>;
