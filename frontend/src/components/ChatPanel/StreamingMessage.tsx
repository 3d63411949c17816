import { useEffect, useState } from 'react';
import { cancelFrame, scheduleFrame } from '../../lib/frame-scheduler';
import { renderStats } from '../../lib/render-stats';
import { useChatSession } from '../../lib/use-chat';
import { Markdown } from './Markdown';

/**
 * The answer being written. It subscribes to the turn's text itself and renders at most
 * once per animation frame, so a delta costs the same in a chat of ten messages or of a
 * thousand: the list does not render for it.
 */
export function StreamingMessage({ turnId }: { turnId: string | null }) {
  // eslint-disable-next-line react-hooks/immutability -- counting renders is the point; only benchmark and test builds have it
  if (__RENDER_STATS__) renderStats.streaming++;
  const { store } = useChatSession();
  const [text, setText] = useState(() => store.getState().turn?.text ?? '');

  useEffect(() => {
    const key = {};
    let last = store.getState().turn?.text ?? '';
    // Text that arrived between the first render and this subscription shows at the next frame.
    scheduleFrame(key, () => setText(last));
    const unsubscribe = store.subscribe(() => {
      const turn = store.getState().turn;
      if (turn?.turnId !== turnId || turn.text === last) return;
      last = turn.text;
      scheduleFrame(key, () => setText(last));
    });
    return () => {
      unsubscribe();
      cancelFrame(key);
    };
  }, [store, turnId]);

  return (
    <article
      className="msg msg--model"
      data-testid="message"
      data-role="model"
      data-status="streaming"
      aria-label="AI 비서의 답변 (작성 중)"
      aria-busy="true"
    >
      <div className="msg__bubble">
        {text ? (
          <>
            <Markdown text={text} />
          </>
        ) : (
          <span className="msg__typing" aria-label="답변을 작성하고 있습니다">
            <span />
            <span />
            <span />
          </span>
        )}
      </div>
    </article>
  );
}
