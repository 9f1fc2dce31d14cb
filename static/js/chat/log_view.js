// A chat log that changes by appending, for screen readers. The log is a
// role=log live region: a screen reader reads what is added to it. Rebuilt
// on every change, its every row would be "added" again (read out again from
// the top, or dropped as too much); kept by key, a new message is the one new
// node, and the rows already shown stay the same DOM nodes.
//
//   const rows = new KeyedRows(logElement);
//   const node = rows.row(`m${seq}`, () => messageRow(m), { update: (n) => refreshTick(n, m) });
//   rows.show([node, ...]);   // the log's rows in order: moves or adds only what changed
//
// row(): the node of a key, built the first time; `sig` rebuilds it when it
// changes (a failed send becomes a "Not sent" row); `update` patches the kept
// node in place (a read tick). show() removes the rows not listed and forgets
// the keys not asked for since the last show().

export class KeyedRows {
  constructor(container) {
    this.container = container;
    this.cache = new Map(); // key -> {node, sig}
    this.asked = new Set();
  }

  row(key, build, { sig = "", update = null } = {}) {
    let entry = this.cache.get(key);
    if (!entry || entry.sig !== sig) {
      entry = { node: build(), sig };
      this.cache.set(key, entry);
    } else if (update) {
      update(entry.node);
    }
    this.asked.add(key);
    return entry.node;
  }

  show(nodes) {
    const wanted = new Set(nodes);
    for (const child of [...this.container.children]) {
      if (!wanted.has(child)) child.remove();
    }
    // Walk the wanted order beside the current children: a node already in
    // its place is not touched, so appending one message inserts one node.
    let cursor = this.container.firstElementChild;
    for (const node of nodes) {
      if (node === cursor) {
        cursor = cursor.nextElementSibling;
      } else {
        this.container.insertBefore(node, cursor);
      }
    }
    for (const key of [...this.cache.keys()]) {
      if (!this.asked.has(key)) this.cache.delete(key);
    }
    this.asked.clear();
  }
}
