/**
 * A WHERE clause built from optional filters, numbering PostgreSQL's `$n` parameters as they are
 * added; clauses are written with `?` for their one value.
 */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly clauses: string[] = [];

  /** Adds `clause`, its `?` replaced by the next parameter holding `value`. */
  add(clause: string, value: unknown): this {
    this.clauses.push(clause.replace('?', this.param(value)));
    return this;
  }

  /** Registers a value and returns its placeholder, for use outside the WHERE clause (LIMIT). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  sql(): string {
    return this.clauses.length ? this.clauses.join(' AND ') : 'TRUE';
  }
}
