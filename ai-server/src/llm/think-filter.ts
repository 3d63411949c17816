const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Drops a `<think>…</think>` block at the start of a streamed reply (what reasoning
 * models served by Ollama, vLLM or llama.cpp put before the answer), and the blank space
 * after it. Pieces may split the tags anywhere; text outside a leading block is kept as is.
 */
export class ThinkFilter {
  #state: 'start' | 'thinking' | 'after' | 'text' = 'start';
  #buffer = '';

  /** The part of `piece` to show (may be empty while a tag is still undecided). */
  push(piece: string): string {
    if (this.#state === 'text') return piece;
    this.#buffer += piece;
    if (this.#state === 'start') {
      const head = this.#buffer.trimStart();
      if (head.length < OPEN.length && OPEN.startsWith(head)) return '';
      if (!head.startsWith(OPEN)) return this.#release(this.#buffer);
      this.#state = 'thinking';
      this.#buffer = head.slice(OPEN.length);
    }
    if (this.#state === 'thinking') {
      const end = this.#buffer.indexOf(CLOSE);
      if (end < 0) {
        // Keep only what could be the start of a split closing tag.
        this.#buffer = this.#buffer.slice(-(CLOSE.length - 1));
        return '';
      }
      this.#state = 'after';
      this.#buffer = this.#buffer.slice(end + CLOSE.length);
    }
    const rest = this.#buffer.trimStart();
    if (rest === '') {
      this.#buffer = '';
      return '';
    }
    return this.#release(rest);
  }

  /** What is still held at the end of the reply: a start that turned out not to be a tag. */
  end(): string {
    return this.#state === 'start' ? this.#release(this.#buffer) : '';
  }

  #release(text: string): string {
    this.#state = 'text';
    this.#buffer = '';
    return text;
  }
}
