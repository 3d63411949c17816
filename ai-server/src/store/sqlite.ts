import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

export type SqliteDatabase = BetterSqlite3.Database;

/**
 * Opens an SQLite database with `better-sqlite3`, an optional dependency loaded only here,
 * when the embedded store is used (the Docker image always uses Redis and may lack it).
 * `file` is a path or `':memory:'`. Throws an error whose message names the fix.
 */
export function openSqlite(file: string): SqliteDatabase {
  let Database: typeof BetterSqlite3;
  try {
    // Synchronous on purpose: the in-memory store is built where no await is possible.
    Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    throw missing(err);
  }
  try {
    // timeout 0: a database locked by another process fails at once instead of waiting.
    return new Database(file, { timeout: 0 });
  } catch (err) {
    if (isSqliteError(err)) throw err;
    // The package is there but its native part was not built or does not load.
    throw missing(err);
  }
}

export function isSqliteError(err: unknown): err is Error & { code: string } {
  const code: unknown = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

function missing(err: unknown): Error {
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new Error(
    'The embedded chat store (used when REDIS_URL is not set) needs the optional package ' +
      `better-sqlite3, which is missing or not built (${reason}). Build it: install a C++ ` +
      'toolchain (Debian/Ubuntu: apt-get install -y build-essential python3), then run ' +
      '`npm install` at the repository root. Or set REDIS_URL to use Redis instead.',
    { cause: err },
  );
}
