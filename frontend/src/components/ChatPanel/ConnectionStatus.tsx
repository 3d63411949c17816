import Chip from '@mui/material/Chip';
import { useEffect, useState } from 'react';
import type { ConnectionSnapshot } from '../../lib/chat-socket';
import { useChatSession, useConnection } from '../../lib/use-chat';
import { colorVars } from '../../theme';

const selectState = (c: ConnectionSnapshot) => c.state;
const selectRetryAt = (c: ConnectionSnapshot) => c.retryAt;

/** Seconds left until `at`, ticking once a second while there is a countdown. */
function useSecondsUntil(at: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (at === null) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [at]);
  return at === null ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

export function connectionLabel(state: ConnectionSnapshot['state'], seconds: number | null): string {
  switch (state) {
    case 'open':
      return '연결됨';
    case 'connecting':
      return '연결 중…';
    case 'reconnecting':
      return seconds !== null && seconds > 0 ? `재연결 중 · ${seconds}초 후` : '재연결 중…';
    case 'offline':
      return '오프라인';
  }
}

const DOT: Record<ConnectionSnapshot['state'], string> = {
  open: colorVars.success.main,
  connecting: colorVars.warning.main,
  reconnecting: colorVars.warning.main,
  offline: colorVars.error.main,
};

/**
 * Connected / reconnecting in N s / offline. Clicking it while waiting to reconnect
 * tries at once. The countdown is not a live region (it would speak every second); a
 * hidden one says each change of state once.
 */
export function ConnectionStatus() {
  const { socket } = useChatSession();
  const state = useConnection(selectState);
  const retryAt = useConnection(selectRetryAt);
  const seconds = useSecondsUntil(state === 'reconnecting' ? retryAt : null);
  const label = connectionLabel(state, seconds);
  const canRetryNow = state === 'reconnecting' && retryAt !== null;

  return (
    <>
      <Chip
        size="small"
        data-testid="connection-status"
        data-state={state}
        label={label}
        onClick={canRetryNow ? () => socket.reconnectNow() : undefined}
        aria-label={canRetryNow ? `${label}. 지금 다시 연결` : `연결 상태: ${label}`}
        icon={
          <span
            aria-hidden
            style={{ width: 8, height: 8, borderRadius: '50%', background: DOT[state], marginLeft: 8, flex: 'none' }}
          />
        }
        sx={{
          bgcolor: 'background.default',
          color: 'text.secondary',
          border: `1px solid ${colorVars.divider}`,
          fontVariantNumeric: 'tabular-nums',
          maxWidth: 170,
        }}
      />
      <span className="visually-hidden" role="status" aria-live="polite">
        {connectionLabel(state, null)}
      </span>
    </>
  );
}
