/**
 * Enter-to-send that is right with input methods (IME).
 *
 * - Korean: Enter while a syllable is being composed must send the whole message once,
 *   last syllable included. Sending on the composing keydown sends the text, then the
 *   IME commits the last syllable into the emptied field (the "last syllable sent again"
 *   bug); ignoring every composing Enter makes the user press Enter twice.
 * - Japanese, Chinese: the Enter that confirms a conversion must never send.
 *
 * Browsers order the events differently (LibreChat `useTextarea.ts` checks `isComposing`
 * and keyCode 229 for this reason):
 *
 * - Chrome, Edge: `keydown` (isComposing, keyCode 229) → `compositionend` → for Korean,
 *   usually a second `keydown` Enter (keyCode 13).
 * - Safari: `compositionend` → `keydown` (isComposing false, keyCode 229).
 *
 * The Enter is the user's "send" when the composition it ends is Hangul (the Korean IME
 * has nothing to confirm), and only a confirmation otherwise. So: a composing Enter
 * waits for `compositionend` and sends then if the committed text is Hangul (unless the
 * browser's own second keydown sends first); a keyCode-229 Enter after `compositionend`
 * sends if that composition was Hangul. Every path reads the field's value at send time
 * (the committed text is in it by then) and the field is emptied at once, so the same
 * key press cannot send twice.
 */

const HANGUL_RE = /[\u1100-\u11FF\u3130-\u318F\uA960-\uA97F\uAC00-\uD7A3\uD7B0-\uD7FF]/;

export function isHangul(text: string): boolean {
  return HANGUL_RE.test(text);
}

/** The parts of a `keydown` event the guard reads. */
export interface EnterKeyEvent {
  key: string;
  code?: string;
  keyCode: number;
  shiftKey: boolean;
  altKey: boolean;
  isComposing: boolean;
  preventDefault(): void;
}

const IME_KEYCODE = 229;
/** A `compositionend` this recent belongs to the same key press as the Enter after it. */
const SAME_KEYPRESS_MS = 1000;

export class ImeEnterGuard {
  private composing = false;
  private enterWhileComposing = false;
  private lastEnd: { data: string; at: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `submit` reads the field and sends it (and empties it); it must be idempotent on an empty field. */
  constructor(
    private readonly submit: () => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  compositionStart(): void {
    this.composing = true;
    this.enterWhileComposing = false;
  }

  compositionEnd(data: string): void {
    this.composing = false;
    this.lastEnd = { data, at: this.now() };
    if (this.enterWhileComposing) {
      this.enterWhileComposing = false;
      // Chrome order: the Enter came first. Korean: send once the commit is in the field
      // (the browser's own follow-up keydown may come first and send; then this finds
      // the field empty). Japanese/Chinese: it was a confirmation.
      if (isHangul(data)) {
        this.cancelTimer();
        this.timer = setTimeout(() => {
          this.timer = null;
          this.submit();
        }, 0);
      }
    }
  }

  keyDown(e: EnterKeyEvent): void {
    if (!isEnterKey(e)) {
      this.lastEnd = null;
      this.enterWhileComposing = false;
      return;
    }
    if (e.shiftKey || e.altKey) return; // a line break: the textarea's default

    if (this.composing) {
      this.enterWhileComposing = true; // compositionend decides
      return;
    }
    if (e.isComposing || e.keyCode === IME_KEYCODE) {
      const end = this.lastEnd;
      if (end && this.now() - end.at < SAME_KEYPRESS_MS && isHangul(end.data)) {
        // Safari order: the Korean syllable is already committed; this Enter sends.
        e.preventDefault();
        this.fire();
      } else if (e.isComposing) {
        // Composing without a compositionstart we saw: let compositionend decide.
        this.enterWhileComposing = true;
      }
      // Otherwise the Enter confirmed a conversion: never a send.
      return;
    }
    e.preventDefault();
    this.fire();
  }

  dispose(): void {
    this.cancelTimer();
  }

  private fire(): void {
    this.cancelTimer();
    this.lastEnd = null;
    this.submit();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function isEnterKey(e: EnterKeyEvent): boolean {
  // Chrome on Windows reports the composing Enter as key "Process" with code "Enter".
  return e.key === 'Enter' || e.code === 'Enter' || e.code === 'NumpadEnter' || e.keyCode === 13;
}
