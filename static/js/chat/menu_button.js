// A menu button, as the WAI-ARIA Authoring Practices describe it (the "⋯"
// of an agent's chat window): a button with aria-haspopup="menu" and
// aria-expanded that opens a role=menu of role=menuitem buttons.
//
//   const menu = new MenuButton({ id: "chat-menu-7", label: "More actions", text: "⋯" });
//   header.append(menu.root);
//   menu.setItems([{ label: "Copy chat log", onSelect: () => copy() }, ...]);
//   menu.open();        // as Enter on the button does; menu.close({ returnFocus: true })
//
// Keys: on the button, Enter, Space and ArrowDown open it on the first item,
// ArrowUp on the last. In the menu, ArrowDown/ArrowUp move (and wrap),
// Home/End go to the first/last item, a letter to the next item starting
// with it, Escape closes it and gives the focus back to the button, Tab
// closes it and moves on. Choosing an item closes the menu and gives the
// focus back to the button before the item acts, so a dialog it opens
// returns the focus there when it closes. The list opens below the button,
// never over it.

import { el } from "../dom.js";

export class MenuButton {
  constructor({ id, label, text }) {
    this.items = [];
    this.button = el("button", {
      type: "button", class: "chat-menu-button", id: `${id}-button`,
      "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": id,
      "aria-label": label, title: label, text,
    });
    this.list = el("div", { class: "chat-menu-list", role: "menu", id, "aria-labelledby": this.button.id, hidden: true });
    this.root = el("div", { class: "chat-menu" }, this.button, this.list);
    this.button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.button.addEventListener("keydown", (event) => this._onButtonKey(event));
    this.list.addEventListener("keydown", (event) => this._onMenuKey(event));
    // Focus gone elsewhere (a click away, the window closing): the menu closes.
    this.root.addEventListener("focusout", (event) => {
      if (this.isOpen && !this.root.contains(event.relatedTarget)) this.close();
    });
    this._onDocumentClick = (event) => {
      if (this.isOpen && !this.root.contains(event.target)) this.close();
    };
    document.addEventListener("click", this._onDocumentClick);
  }

  get isOpen() {
    return !this.list.hidden;
  }

  // items: [{label, onSelect}]; the nodes are kept while the labels stay the same.
  setItems(items) {
    const key = items.map((item) => item.label).join("|");
    this.items = items;
    this.root.hidden = !items.length;
    if (key === this._key) return;
    this._key = key;
    if (this.isOpen) this.close();
    this.list.replaceChildren(
      ...items.map((item, index) =>
        el("button", {
          type: "button", role: "menuitem", class: "chat-menu-item", tabindex: "-1", text: item.label,
          onclick: () => this._choose(index),
        })),
    );
  }

  open({ focus = "first" } = {}) {
    if (!this.items.length) return;
    this.list.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this._focusItem(focus === "last" ? this._menuItems().length - 1 : 0);
  }

  close({ returnFocus = false } = {}) {
    if (!this.isOpen) return;
    this.list.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (returnFocus) this.button.focus();
  }

  destroy() {
    document.removeEventListener("click", this._onDocumentClick);
  }

  _menuItems() {
    return [...this.list.querySelectorAll("[role=menuitem]")];
  }

  _focusItem(index) {
    const items = this._menuItems();
    if (!items.length) return;
    items[(index + items.length) % items.length].focus();
  }

  _choose(index) {
    const item = this.items[index];
    this.close({ returnFocus: true });
    if (item) item.onSelect();
  }

  _onButtonKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      this.open({ focus: event.key === "ArrowUp" ? "last" : "first" });
    }
  }

  _onMenuKey(event) {
    const items = this._menuItems();
    const at = items.indexOf(document.activeElement);
    let handled = true;
    if (event.key === "ArrowDown") this._focusItem(at + 1);
    else if (event.key === "ArrowUp") this._focusItem(at - 1);
    else if (event.key === "Home") this._focusItem(0);
    else if (event.key === "End") this._focusItem(items.length - 1);
    else if (event.key === "Escape") this.close({ returnFocus: true });
    else if (event.key === "Tab") {
      // The focus goes back to the button, and Tab moves on from there.
      this.close({ returnFocus: true });
      handled = false;
    } else if (event.key.length === 1 && /\S/.test(event.key) && !event.ctrlKey && !event.altKey && !event.metaKey) {
      const letter = event.key.toLowerCase();
      const order = [...items.slice(at + 1), ...items.slice(0, at + 1)];
      const next = order.find((item) => item.textContent.trim().toLowerCase().startsWith(letter));
      if (next) next.focus();
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }
}
