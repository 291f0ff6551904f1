import type * as z from 'zod';
import { ValidationError } from '../errors';
import type { FieldError } from '../errors';

/** Validates request input; every problem names its field in `path`. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors: FieldError[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ path: path ? `${path}.${key}` : key, message: 'unknown field' });
      }
    } else if (issue.code === 'invalid_type' && path === '') {
      errors.push({ path: '', message: `expected a JSON ${issue.expected}` });
    } else {
      errors.push({ path, message: issue.message });
    }
  }
  throw new ValidationError(errors);
}
