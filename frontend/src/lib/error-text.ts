import type { ErrorCode } from '@ai-chat/protocol';

/**
 * The protocol's error codes in the words the page shows (a code without its words does
 * not compile). The server's `message` is for developers and in English: the page never
 * shows it.
 */
const TEXT: Record<ErrorCode, string> = {
  bad_request: '요청 형식이 올바르지 않습니다.',
  invalid_chat_id: '대화 식별자가 올바르지 않습니다. 새 대화를 시작해 주세요.',
  too_long: '메시지가 비어 있거나 너무 깁니다.',
  rate_limited: '메시지를 너무 자주 보냈습니다. 잠시 후 다시 시도해 주세요.',
  busy: '이전 답변을 작성하는 중입니다. 답변이 끝난 뒤 다시 시도해 주세요.',
  llm_rate_limited: 'AI 모델 사용량이 많아 답변하지 못했습니다. 잠시 후 다시 시도해 주세요.',
  llm_unavailable: 'AI 모델에 연결하지 못했습니다. 다시 시도해 주세요.',
  llm_refused: 'AI 모델이 이 요청에 대한 답변을 거부했습니다.',
  store_unavailable: '대화 저장소에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.',
  interrupted: '서버 문제로 답변이 중단되었습니다.',
  internal: '서버에서 오류가 발생했습니다.',
};

export function errorText(code: ErrorCode, retryAfterMs?: number): string {
  const base = TEXT[code];
  if (retryAfterMs !== undefined && retryAfterMs > 0) {
    return `${base} (${Math.ceil(retryAfterMs / 1000)}초 후 가능)`;
  }
  return base;
}

/** What the page says about an answer that did not end normally, by its stored status. */
export function statusText(status: 'stopped' | 'interrupted' | 'error', errorCode?: ErrorCode): string {
  if (status === 'stopped') return '답변을 중지했습니다.';
  if (status === 'interrupted') return errorCode ? errorText(errorCode) : '답변이 중단되었습니다.';
  return errorCode ? errorText(errorCode) : '답변을 만들지 못했습니다.';
}
