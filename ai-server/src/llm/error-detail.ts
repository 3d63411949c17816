import type { LlmErrorDetail } from '@ai-chat/protocol';

/** The `detail` of an HTTP status from a model provider: 503 overloaded, 408/499/504 a deadline, anything else a server error. */
export function statusDetail(status: number | undefined): LlmErrorDetail {
  if (status === 503 || status === 529) return 'overloaded';
  if (status === 408 || status === 499 || status === 504) return 'timeout';
  return 'server_error';
}
