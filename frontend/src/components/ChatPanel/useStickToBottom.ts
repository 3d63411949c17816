import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

/** How close to the bottom (px) still counts as "reading the latest". */
const BOTTOM_SLACK_PX = 48;

/**
 * Follows the newest content only while the reader is at the bottom: growth of the
 * content (a new message, a delta, a code block highlighted late) scrolls down then;
 * a reader who scrolled up stays where they are and gets a "latest" button instead.
 */
export function useStickToBottom(scrollRef: RefObject<HTMLElement | null>, contentRef: RefObject<HTMLElement | null>) {
  const pinned = useRef(true);
  const [atBottom, setAtBottom] = useState(true);

  const shown = useRef(true);
  const show = useCallback((value: boolean) => {
    // Only on a change: a scroll event per frame must not render the list.
    if (shown.current === value) return;
    shown.current = value;
    setAtBottom(value);
  }, []);

  const scrollToBottom = useCallback(() => {
    const el = scrollRef.current;
    pinned.current = true;
    show(true);
    if (el) el.scrollTop = el.scrollHeight;
  }, [scrollRef, show]);

  useEffect(() => {
    const el = scrollRef.current;
    const content = contentRef.current;
    if (!el || !content) return;
    let lastTop = el.scrollTop;
    const onScroll = () => {
      const distance = el.scrollHeight - el.scrollTop - el.clientHeight;
      // Scrolling up is the reader's; reaching the bottom again re-pins.
      if (distance <= BOTTOM_SLACK_PX) pinned.current = true;
      else if (el.scrollTop < lastTop) pinned.current = false;
      lastTop = el.scrollTop;
      show(pinned.current);
    };
    const follow = () => {
      if (pinned.current) {
        el.scrollTop = el.scrollHeight;
        lastTop = el.scrollTop;
      }
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(follow) : null;
    ro?.observe(content);
    ro?.observe(el);
    follow();
    return () => {
      el.removeEventListener('scroll', onScroll);
      ro?.disconnect();
    };
  }, [scrollRef, contentRef, show]);

  return { atBottom, scrollToBottom };
}
