// The focused element of the page, as focus_ring_problems (tests/e2e/accessibility.py)
// reads it after each Tab: its own number (two buttons of one name are two stops), a
// description for the failure message, its outline, and the colour the outline is drawn
// on: the background behind the element, composited from its ancestors' backgrounds up
// to the first opaque one (the ring sits outside the element, on its parent; a ring
// drawn inside it, by a negative offset, on its own background).
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  window.__focusStops = window.__focusStops || new WeakMap();
  if (!window.__focusStops.has(el)) {
    window.__focusStopCount = (window.__focusStopCount || 0) + 1;
    window.__focusStops.set(el, window.__focusStopCount);
  }
  const parse = (text) => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const style = getComputedStyle(el);
  // A ring drawn inside the element (a negative outline-offset: the presence
  // buttons) lies on the element's own background, not its parent's.
  const inside = (parseFloat(style.outlineOffset) || 0) + (parseFloat(style.outlineWidth) || 0) <= 0;
  const layers = [];
  for (let node = inside ? el : el.parentElement; node; node = node.parentElement) {
    const bg = parse(getComputedStyle(node).backgroundColor);
    if (bg && bg[3] > 0) {
      layers.push(bg);
      if (bg[3] >= 1) break;
    }
  }
  let background = [255, 255, 255, 1];
  for (const layer of layers.reverse()) background = over(layer, background);
  const classes = typeof el.className === "string" ? el.className.split(/\s+/).filter(Boolean) : [];
  const describe = el.id ? `#${el.id}` : [el.tagName.toLowerCase(), ...classes].join(".");
  const text = el.getAttribute("aria-label") || el.textContent || el.value || "";
  return {
    stop: window.__focusStops.get(el),
    element: `${describe} "${text.trim().replace(/\s+/g, " ").slice(0, 40)}"`,
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: parse(style.outlineColor),
    background,
  };
}
