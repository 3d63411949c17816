/**
 * Code points, as the protocol counts characters (`[...text].length`): on the server
 * and in the page's counter alike.
 */
export function codePointLength(text: string): number {
  const points = text[Symbol.iterator]();
  let n = 0;
  while (!points.next().done) n++;
  return n;
}
