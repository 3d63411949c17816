import type * as z from 'zod/mini';

type Issue = z.core.$ZodIssue;

/** Whether a frame failed only because no frame has its `type` (a discriminated union reports that on `type`). */
export function isUnknownType(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.code === 'invalid_union' && i.path.length === 1 && i.path[0] === 'type');
}

/** The fields a frame got wrong, for a message: `text, limits.maxFrameBytes`. */
export function faultyFields(issues: readonly Issue[]): string {
  return [...new Set(issues.map((i) => i.path.join('.') || '(frame)'))].join(', ');
}
