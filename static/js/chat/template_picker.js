// Choosing an approved WhatsApp template and filling in its {{1}}, {{2}}...:
// a labelled select, one labelled input per placeholder and a preview of the
// text the client gets. Used by the chat window's Send template dialog
// (whatsapp_templates.js) and by Message customer (reach_out.js). Template
// bodies and values go in as text.

import { el } from "../dom.js";

const PLACEHOLDER = /\{\{(\d+)\}\}/g;

export function fillTemplate(body, values) {
  return body.replace(PLACEHOLDER, (match, n) => values[Number(n) - 1] || match);
}

export class TemplatePicker {
  constructor(idPrefix) {
    this.idPrefix = idPrefix;
    this.templates = [];
    this.select = el("select", { id: `${idPrefix}-template`, onchange: () => this._drawValues() });
    this.valuesEl = el("div", { class: "template-values" });
    this.preview = el("p", { class: "template-preview", id: `${idPrefix}-preview`, "aria-live": "polite" });
    this.root = el("div", { class: "template-picker" },
      el("div", { class: "field" }, el("label", { for: this.select.id, text: "Template" }), this.select),
      this.valuesEl,
      el("p", { class: "template-preview-label muted", text: "The client gets:" }),
      this.preview);
  }

  setTemplates(templates) {
    this.templates = templates;
    this.select.replaceChildren(...templates.map((t) =>
      el("option", { value: String(t.id), text: `${t.name} (${t.language})` })));
    this._drawValues();
  }

  get template() {
    return this.templates.find((t) => String(t.id) === this.select.value) || null;
  }

  values() {
    return [...this.valuesEl.querySelectorAll("input")].map((input) => input.value.trim());
  }

  // Why the picker cannot be sent yet ("" when it can); the server checks again.
  problem() {
    if (!this.template) return "There is no approved WhatsApp template: ask an administrator to add one.";
    const empty = this.values().findIndex((value) => !value);
    return empty >= 0 ? `Fill in {{${empty + 1}}}.` : "";
  }

  firstInput() {
    return this.valuesEl.querySelector("input") || this.select;
  }

  _drawValues() {
    const template = this.template;
    const count = template ? template.placeholders : 0;
    const inputs = [];
    for (let n = 1; n <= count; n += 1) {
      const id = `${this.idPrefix}-value-${n}`;
      const input = el("input", { type: "text", id, maxlength: "1000", autocomplete: "off",
        oninput: () => this._drawPreview() });
      inputs.push(el("div", { class: "field" }, el("label", { for: id, text: `Value for {{${n}}}` }), input));
    }
    this.valuesEl.replaceChildren(...inputs);
    this._drawPreview();
  }

  _drawPreview() {
    const template = this.template;
    this.preview.textContent = template ? fillTemplate(template.body, this.values()) : "";
  }
}
