import CloseIcon from '@mui/icons-material/Close';
import RefreshIcon from '@mui/icons-material/Refresh';
import Button from '@mui/material/Button';
import { memo, useCallback, useSyncExternalStore } from 'react';
import { canRetry, type OutgoingMessage as Outgoing } from '../../lib/chat-state';
import { errorText } from '../../lib/error-text';

export interface OutgoingMessageProps {
  message: Outgoing;
  /** An answer is on its way: a retry now would be refused (or land out of order). */
  busy: boolean;
  onRetry: (clientMsgId: string) => void;
  onDismiss: (clientMsgId: string) => void;
}

/** True once `at` (ms since epoch) has passed; renders again then. */
function useReached(at: number | undefined): boolean {
  const subscribe = useCallback(
    (onReached: () => void) => {
      if (at === undefined) return noop;
      const t = setTimeout(onReached, Math.max(0, at - Date.now()) + 20);
      return () => clearTimeout(t);
    },
    [at],
  );
  return useSyncExternalStore(subscribe, () => at === undefined || Date.now() >= at);
}

function noop(): void {
  // Nothing to stop: there is no time to wait for.
}

/**
 * A user message on its way (not acked: shown as sending, sent again after a reconnect)
 * or refused before its ack (with the error, "retry" = the same send when retryable,
 * enabled once no answer is on its way and the server's `retryAfterMs` has passed). A
 * refused message followed by a newer one shows as not sent, without retry. A regenerate
 * request shows only when it was refused.
 */
export const OutgoingMessage = memo(function OutgoingMessage({ message, busy, onRetry, onDismiss }: OutgoingMessageProps) {
  const error = message.error;
  const failed = error !== null;
  const waited = useReached(message.retryAt);
  if (message.kind === 'regenerate' && !failed) return null;
  // Already in the conversation (stored before a reconnect): hidden until its ack.
  if (!failed && message.storedAs !== undefined) return null;
  const actions = failed ? (
    <div className="msg__meta" role="alert">
      <span className="msg__status msg__status--error" data-testid="message-status">
        {message.superseded ? '보내지 못한 메시지입니다.' : errorText(error.code, error.retryAfterMs)}
      </span>
      {error.retryable && !message.superseded ? (
        <Button
          size="small"
          variant="outlined"
          startIcon={<RefreshIcon />}
          onClick={() => onRetry(message.clientMsgId)}
          disabled={!waited || !canRetry(message, busy, Number.POSITIVE_INFINITY)}
          data-testid="retry-button"
        >
          다시 시도
        </Button>
      ) : null}
      <Button size="small" color="inherit" startIcon={<CloseIcon />} onClick={() => onDismiss(message.clientMsgId)}>
        닫기
      </Button>
    </div>
  ) : (
    <div className="msg__meta">보내는 중…</div>
  );

  if (message.kind === 'regenerate') {
    return <div className="msg msg--model">{actions}</div>;
  }
  return (
    <article
      className={`msg msg--user ${failed ? 'msg--failed' : 'msg--pending'}`}
      data-testid="message"
      data-role="user"
      data-status={failed ? 'failed' : 'pending'}
      aria-label={failed ? '보내지 못한 내 메시지' : '보내는 중인 내 메시지'}
    >
      <div className="msg__bubble">{message.text}</div>
      {actions}
    </article>
  );
});
