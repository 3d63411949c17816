import CloseIcon from '@mui/icons-material/Close';
import RefreshIcon from '@mui/icons-material/Refresh';
import Button from '@mui/material/Button';
import { memo } from 'react';
import type { OutgoingMessage as Outgoing } from '../../lib/chat-state';
import { errorText } from '../../lib/error-text';

export interface OutgoingMessageProps {
  message: Outgoing;
  onRetry: (clientMsgId: string) => void;
  onDismiss: (clientMsgId: string) => void;
}

/**
 * A user message on its way (not acked: shown as sending, sent again after a reconnect)
 * or refused before its ack (with the error, "retry" = the same send when retryable).
 * A regenerate request shows only when it was refused.
 */
export const OutgoingMessage = memo(function OutgoingMessage({ message, onRetry, onDismiss }: OutgoingMessageProps) {
  const failed = message.error !== null;
  if (message.kind === 'regenerate' && !failed) return null;
  const actions = failed ? (
    <div className="msg__meta" role="alert">
      <span className="msg__status msg__status--error" data-testid="message-status">
        {errorText(message.error!.code, message.error!.retryAfterMs)}
      </span>
      {message.error!.retryable ? (
        <Button size="small" variant="outlined" startIcon={<RefreshIcon />} onClick={() => onRetry(message.clientMsgId)} data-testid="retry-button">
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
