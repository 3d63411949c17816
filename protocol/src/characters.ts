/**
 * Code points, as the protocol counts characters (`[...text].length`): on the server
 * and in the page's counter alike.
 */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
