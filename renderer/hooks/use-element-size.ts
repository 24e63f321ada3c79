// The content-box size of an element, kept current with a ResizeObserver. Runs in the renderer.

import { useLayoutEffect, useState, type RefObject } from 'react';

/** A size in CSS pixels. */
export interface ElementSize {
  readonly width: number;
  readonly height: number;
}

/** Width and height (CSS px) of the element behind `ref`; 0×0 until it is laid out. */
export function useElementSize(ref: RefObject<HTMLElement | null>): ElementSize {
  const [size, setSize] = useState<ElementSize>({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    const update = (): void => {
      const { clientWidth: width, clientHeight: height } = element;
      setSize((previous) => (previous.width === width && previous.height === height ? previous : { width, height }));
    };
    update();
    const observer = new ResizeObserver(update);
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return size;
}
