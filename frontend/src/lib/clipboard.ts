/**
 * Copies text. `navigator.clipboard` exists only in secure contexts (https, localhost);
 * on a plain-http deployment the old `execCommand('copy')` on a hidden textarea still
 * works inside the click that asked for it. Returns whether the text was copied.
 */
export async function copyText(text: string): Promise<boolean> {
  // `clipboard` is missing outside secure contexts.
  const clipboard = typeof navigator === 'undefined' ? undefined : (navigator as Partial<Navigator>).clipboard;
  if (clipboard && window.isSecureContext) {
    try {
      await clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: try the old way.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.top = '-1000px';
  area.style.opacity = '0';
  // The focused element may be one without `focus()` (a plain Element).
  const previous: (Element & Partial<HTMLOrSVGElement>) | null = document.activeElement;
  document.body.appendChild(area);
  area.select();
  let ok: boolean;
  try {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only copy that works outside secure contexts (plain http)
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  previous?.focus?.();
  return ok;
}
