/** Rows from `db.execute()`: postgres.js returns an array, PGlite and node-postgres `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
