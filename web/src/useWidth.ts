import { useLayoutEffect, useRef, useState } from 'react';

/**
 * The width in CSS pixels of the element the returned ref is put on, kept current as it resizes. Charts
 * draw in real pixels with it, so their text is the size the stylesheet says whatever the card's width.
 */
export function useWidth<E extends Element>(fallback: number): [React.RefObject<E | null>, number] {
  const ref = useRef<E | null>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const w = Math.floor(el.getBoundingClientRect().width);
      if (w > 0) setWidth(w);
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
