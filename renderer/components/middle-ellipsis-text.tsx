// A one-line name that, when it does not fit, is cut in the middle so its distinguishing end stays
// visible ("127.0…:5902"); the full name is its tooltip and what screen readers read. It never gets
// narrower than "…" plus that end. Measured with a canvas in the element's own font, again whenever
// the element is resized. Runs in the renderer.

import { useLayoutEffect, useRef, useState, type ReactElement } from 'react';
import { ELLIPSIS, distinguishingTailStart, middleEllipsis } from '../../common/middle-ellipsis';
import { useElementSize } from '../hooks/use-element-size';

/** The widest the kept end may make the element (a very long last word is cut too). */
const MAX_END_WIDTH_PX = 120;

/** One canvas for every measurement (only its 2D context's font and measureText are used). */
let measuringContext: CanvasRenderingContext2D | null = null;

function textWidth(text: string, font: string): number {
  measuringContext ??= document.createElement('canvas').getContext('2d');
  if (measuringContext === null) return text.length * 8;
  measuringContext.font = font;
  return measuringContext.measureText(text).width;
}

/** What a MiddleEllipsisText shows. */
export interface MiddleEllipsisTextProps {
  readonly text: string;
  /** The element it renders as (a heading keeps its role). */
  readonly as?: 'span' | 'h3' | 'div';
  readonly id?: string;
  readonly className?: string;
}

/** Shows `text` on one line, cut in the middle when too long, with the whole text as tooltip. */
export function MiddleEllipsisText({ text, as: Element = 'span', id, className }: MiddleEllipsisTextProps): ReactElement {
  const ref = useRef<HTMLElement>(null);
  const { width } = useElementSize(ref);
  const [fontsReady, setFontsReady] = useState(false);
  const [fitted, setFitted] = useState<{ readonly shown: string; readonly endWidth: number }>({ shown: text, endWidth: 0 });
  useLayoutEffect(() => {
    let live = true;
    void document.fonts?.ready.then(() => {
      if (live) setFontsReady(true);
    });
    return () => {
      live = false;
    };
  }, []);
  // fontsReady: measured again once the fonts are in.
  useLayoutEffect(() => {
    const node = ref.current;
    if (node === null) return;
    const font = getComputedStyle(node).font;
    const end = text.slice(distinguishingTailStart(text));
    const endWidth = end === '' ? 0 : Math.min(MAX_END_WIDTH_PX, Math.ceil(textWidth(ELLIPSIS + end, font)) + 1);
    // Half a pixel of slack: measureText and layout round differently.
    const shown = width <= 0 ? text : middleEllipsis(text, (candidate) => textWidth(candidate, font) <= width - 0.5);
    setFitted((previous) => (previous.shown === shown && previous.endWidth === endWidth ? previous : { shown, endWidth }));
  }, [text, width, fontsReady]);
  const { shown, endWidth } = fitted;
  return (
    <Element
      ref={ref as never}
      id={id}
      className={`middle-ellipsis${className === undefined ? '' : ` ${className}`}`}
      style={endWidth > 0 ? { minWidth: `${endWidth}px` } : undefined}
      title={text}
      data-full-text={text}
    >
      <span aria-hidden="true">{shown}</span>
      <span className="visually-hidden">{text}</span>
    </Element>
  );
}
