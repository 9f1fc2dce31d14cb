// Building DOM nodes, for every script of the portal and the console.
//
//   el("button", { type: "button", class: "btn", text: "Join", onclick: join }, child, ...)
//
// Attributes: "class" sets className, "text" sets textContent (people's text
// goes in this way, inert), "on…" adds a listener, true sets an empty
// attribute, null/undefined/false leave it out. Children: nodes, or anything
// else as a text node; null and undefined are skipped.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A value the server wrote as JSON into a data-* attribute of `node`
// (templates, from chat/templatetags/chat_tags.py): dataJson(manager,
// "outcomes") reads data-outcomes. `fallback` where there is none.
export function dataJson(node, key, fallback = null) {
  const raw = node && node.dataset[key];
  return raw ? JSON.parse(raw) : fallback;
}
