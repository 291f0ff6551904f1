import type { PostgresBinaries } from '../../lib/local/embedded-postgres';

/**
 * The PostgreSQL majors the suite runs on: the oldest the contract supports and the newest the
 * stack deploys. 16 is supported but not tested (nothing we use changed between 15 and 17 only
 * in 16). Each has its npm package of embedded binaries; 15 is installed under the alias `pg15`.
 */
export const TESTED_POSTGRES_MAJORS = [15, 17] as const;
export type PostgresMajor = (typeof TESTED_POSTGRES_MAJORS)[number];

export async function postgresBinaries(major: PostgresMajor): Promise<PostgresBinaries> {
  switch (major) {
    case 15:
      return (await import('pg15')) as PostgresBinaries;
    case 17:
      // What `embedded-postgres` itself depends on, as lib/local/embedded-postgres.ts loads it.
      return (await import(
        `@embedded-postgres/${process.platform}-${process.arch}`
      )) as PostgresBinaries;
  }
}
