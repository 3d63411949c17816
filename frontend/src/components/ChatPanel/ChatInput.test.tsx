import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatInput } from './ChatInput';

/**
 * The key and composition events in the orders real browsers produce them. The field's
 * value is set as the IME would (it already holds the composing text before the Enter).
 */
function setup(props: Partial<Parameters<typeof ChatInput>[0]> = {}) {
  const sent: string[] = [];
  const onSend = vi.fn((text: string) => {
    sent.push(text);
    return true;
  });
  render(<ChatInput onSend={onSend} onStop={vi.fn()} streaming={false} maxChars={8000} {...props} />);
  const input = screen.getByTestId<HTMLTextAreaElement>('chat-input');
  input.focus();
  return { input, sent, onSend };
}

/** Typing under an IME: compositionstart, then the field's text updated step by step. */
function compose(input: HTMLTextAreaElement, steps: string[]) {
  fireEvent.compositionStart(input, { data: '' });
  for (const value of steps) {
    fireEvent.compositionUpdate(input, { data: value });
    fireEvent.change(input, { target: { value } });
  }
}

interface EnterInit {
  key?: string;
  /** 13, or 229 while an IME handles the key; also sent as `which`. */
  keyCode?: number;
  isComposing?: boolean;
  shiftKey?: boolean;
}

const enter = ({ keyCode = 13, ...init }: EnterInit = {}) => ({
  key: 'Enter',
  code: 'Enter',
  keyCode,
  which: keyCode,
  isComposing: false,
  ...init,
});

describe('ChatInput: Enter, Shift+Enter', () => {
  afterEach(cleanup);

  it('Enter sends the text once and empties the field; focus stays', () => {
    const { input, sent } = setup();
    fireEvent.change(input, { target: { value: 'hello' } });
    const notPrevented = fireEvent.keyDown(input, enter());
    expect(notPrevented).toBe(false); // no line break inserted
    expect(sent).toEqual(['hello']);
    expect(input.value).toBe('');
    expect(document.activeElement).toBe(input);
  });

  it('Shift+Enter breaks the line and does not send', () => {
    const { input, sent } = setup();
    fireEvent.change(input, { target: { value: 'line 1' } });
    const notPrevented = fireEvent.keyDown(input, enter({ shiftKey: true }));
    expect(notPrevented).toBe(true); // the textarea inserts the line break
    expect(sent).toEqual([]);
  });

  it('Enter on an empty or blank field sends nothing', () => {
    const { input, sent } = setup();
    fireEvent.keyDown(input, enter());
    fireEvent.change(input, { target: { value: '  \n ' } });
    fireEvent.keyDown(input, enter());
    expect(sent).toEqual([]);
  });

  it('the send button sends and gives the focus back to the field', () => {
    const { input, sent } = setup();
    fireEvent.change(input, { target: { value: '버튼으로' } });
    fireEvent.click(screen.getByTestId('send-button'));
    expect(sent).toEqual(['버튼으로']);
    expect(document.activeElement).toBe(input);
  });

  it('while an answer streams, Enter keeps the text and the stop button shows', () => {
    const onStop = vi.fn();
    const { input, sent } = setup({ streaming: true, onStop });
    fireEvent.change(input, { target: { value: '다음 질문' } });
    fireEvent.keyDown(input, enter());
    expect(sent).toEqual([]);
    expect(input.value).toBe('다음 질문');
    expect(screen.queryByTestId('send-button')).toBeNull();
    fireEvent.click(screen.getByTestId('stop-button'));
    expect(onStop).toHaveBeenCalledOnce();
    fireEvent.keyDown(input, { key: 'Escape', code: 'Escape', keyCode: 27 });
    expect(onStop).toHaveBeenCalledTimes(2);
  });

  it('is disabled while offline only', () => {
    setup({ disabled: true });
    expect(screen.getByTestId<HTMLTextAreaElement>('chat-input').disabled).toBe(true);
    cleanup();
    setup({ streaming: true });
    expect(screen.getByTestId<HTMLTextAreaElement>('chat-input').disabled).toBe(false);
  });
});

describe('ChatInput: Korean IME, one Enter sends the whole message exactly once', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    cleanup();
  });

  it('Chrome order: keydown (isComposing, 229) → compositionend → keydown 13', () => {
    const { input, sent } = setup();
    compose(input, ['ㅇ', '안', '안ㄴ', '안녀', '안녕']);
    fireEvent.keyDown(input, enter({ keyCode: 229, isComposing: true }));
    expect(sent).toEqual([]); // never on the composing keydown: the last syllable is not committed yet
    fireEvent.compositionEnd(input, { data: '녕' });
    fireEvent.keyDown(input, enter());
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual(['안녕']);
    expect(input.value).toBe('');
  });

  it('Chrome order without the second keydown: still sent once, after compositionend', () => {
    const { input, sent } = setup();
    compose(input, ['안', '안녕']);
    fireEvent.keyDown(input, enter({ key: 'Process', keyCode: 229, isComposing: true }));
    fireEvent.compositionEnd(input, { data: '녕' });
    expect(sent).toEqual([]);
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual(['안녕']);
    expect(input.value).toBe('');
  });

  it('Safari order: compositionend → keydown (isComposing false, 229)', () => {
    const { input, sent } = setup();
    compose(input, ['안', '안녕', '안녕하', '안녕하세', '안녕하세요']);
    fireEvent.compositionEnd(input, { data: '요' });
    fireEvent.keyDown(input, enter({ keyCode: 229, isComposing: false }));
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual(['안녕하세요']);
    expect(input.value).toBe('');
    // A line break the IME delivers late is dropped, not left in the emptied field.
    const late = new InputEvent('beforeinput', { inputType: 'insertLineBreak', cancelable: true, bubbles: true });
    input.dispatchEvent(late);
    expect(late.defaultPrevented).toBe(true);
  });

  it('Safari order followed by a keydown 13: still once', () => {
    const { input, sent } = setup();
    compose(input, ['안녕']);
    fireEvent.compositionEnd(input, { data: '녕' });
    fireEvent.keyDown(input, enter({ keyCode: 229 }));
    fireEvent.keyDown(input, enter());
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual(['안녕']);
  });

  it('the last syllable is never sent again as a second message', () => {
    const { input, sent } = setup();
    // Two messages in a row, each ended by Enter while composing (Chrome).
    for (const [steps, last] of [
      [['감', '감사'], '사'],
      [['좋', '좋아'], '아'],
    ] as const) {
      compose(input, [...steps]);
      fireEvent.keyDown(input, enter({ keyCode: 229, isComposing: true }));
      fireEvent.compositionEnd(input, { data: last });
      fireEvent.keyDown(input, enter());
      act(() => {
        vi.runAllTimers();
      });
    }
    expect(sent).toEqual(['감사', '좋아']);
  });

  it('Shift+Enter while composing Korean breaks the line, no send', () => {
    const { input, sent } = setup();
    compose(input, ['안녕']);
    fireEvent.keyDown(input, enter({ keyCode: 229, isComposing: true, shiftKey: true }));
    fireEvent.compositionEnd(input, { data: '녕' });
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual([]);
  });
});

describe('ChatInput: Japanese and Chinese IME, the confirming Enter never sends', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    cleanup();
  });

  it('Chrome order (Japanese): confirm, then the next Enter sends once', () => {
    const { input, sent } = setup();
    compose(input, ['に', 'にほ', 'にほん', 'にほんご', '日本語']);
    fireEvent.keyDown(input, enter({ keyCode: 229, isComposing: true }));
    fireEvent.compositionEnd(input, { data: '日本語' });
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual([]);
    expect(input.value).toBe('日本語');
    fireEvent.keyDown(input, enter());
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual(['日本語']);
  });

  it('Safari order (Japanese): compositionend → keydown 229 does not send; the next Enter does', () => {
    const { input, sent } = setup();
    compose(input, ['か', 'かん', 'かんじ', '漢字']);
    fireEvent.compositionEnd(input, { data: '漢字' });
    fireEvent.keyDown(input, enter({ keyCode: 229, isComposing: false }));
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual([]);
    fireEvent.keyDown(input, enter());
    expect(sent).toEqual(['漢字']);
  });

  it('Chinese pinyin: Enter commits the letters, does not send', () => {
    const { input, sent } = setup();
    compose(input, ['n', 'ni', 'nih', 'niha', 'nihao']);
    fireEvent.keyDown(input, enter({ keyCode: 229, isComposing: true }));
    fireEvent.compositionEnd(input, { data: 'nihao' });
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual([]);
    // Safari order with hanzi
    compose(input, ['你好']);
    fireEvent.compositionEnd(input, { data: '你好' });
    fireEvent.keyDown(input, enter({ keyCode: 229 }));
    act(() => {
      vi.runAllTimers();
    });
    expect(sent).toEqual([]);
  });
});

describe('ChatInput: the character counter', () => {
  afterEach(cleanup);

  it('appears near the limit, counts code points, and blocks sending over it', () => {
    const { input, sent } = setup({ maxChars: 10 });
    fireEvent.change(input, { target: { value: '1234567' } });
    expect(screen.queryByTestId('char-counter')).toBeNull();
    fireEvent.change(input, { target: { value: '😀😀😀😀😀😀😀😀' } }); // 8 code points, 16 UTF-16 units
    expect(screen.getByTestId('char-counter').textContent).toContain('8 / 10');
    fireEvent.change(input, { target: { value: '12345678901' } });
    expect(screen.getByTestId('char-counter').textContent).toContain('11 / 10');
    expect(screen.getByTestId<HTMLButtonElement>('send-button').disabled).toBe(true);
    fireEvent.keyDown(input, enter());
    expect(sent).toEqual([]);
  });
});
