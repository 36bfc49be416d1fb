// The documentation page's script: loads the OpenAPI document from
// /api/schema/ and adds to each operation the page lists its parameters,
// request body, responses and a form to send it. It builds every element
// with the DOM (no innerHTML), and talks only to this origin.
"use strict";

(function () {
  const schemaURL = document.documentElement.dataset.schema || "/api/schema/";
  const status = document.getElementById("status");
  const bearer = document.getElementById("bearer");

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (v === true) e.setAttribute(k, "");
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  function say(msg, bad) {
    status.hidden = false;
    status.textContent = msg;
    status.className = bad ? "note fail" : "note";
  }

  // lookup follows a local $ref ("#/components/schemas/X").
  function lookup(doc, ref) {
    if (!ref.startsWith("#/")) return undefined;
    let v = doc;
    for (const part of ref.slice(2).split("/")) {
      const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
      if (v === undefined || v === null) return undefined;
      v = v[key];
    }
    return v;
  }

  function resolve(doc, obj) {
    for (let i = 0; obj && obj.$ref && i < 16; i++) obj = lookup(doc, obj.$ref);
    return obj || {};
  }

  function refName(ref) {
    return ref.slice(ref.lastIndexOf("/") + 1);
  }

  // expand inlines the $refs of a schema for display, each named by a
  // title, down to a few levels.
  function expand(doc, schema, depth, seen) {
    if (Array.isArray(schema)) return schema.map((s) => expand(doc, s, depth, seen));
    if (!schema || typeof schema !== "object") return schema;
    if (schema.$ref) {
      const name = refName(schema.$ref);
      if (depth <= 0 || seen.includes(name)) return { $ref: schema.$ref };
      const target = expand(doc, lookup(doc, schema.$ref), depth - 1, seen.concat(name));
      return Object.assign({ title: name }, target);
    }
    const out = {};
    for (const [k, v] of Object.entries(schema)) {
      out[k] = k === "examples" || k === "example" || k === "const" || k === "enum" ? v : expand(doc, v, depth, seen);
    }
    return out;
  }

  function schemaBlock(doc, schema) {
    return el("pre", { class: "schema" }, JSON.stringify(expand(doc, schema, 4, []), null, 2));
  }

  // example builds a sample value for a request body.
  function example(doc, schema, depth) {
    schema = resolve(doc, schema);
    if (schema.examples && schema.examples.length) return schema.examples[0];
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    if (depth > 4) return null;
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === "object" || schema.properties) {
      const out = {};
      for (const [k, v] of Object.entries(schema.properties || {})) out[k] = example(doc, v, depth + 1);
      return out;
    }
    if (type === "array") return [];
    if (type === "integer" || type === "number") return 0;
    if (type === "boolean") return false;
    return "";
  }

  function parametersOf(doc, pathItem, op) {
    const byKey = new Map();
    for (const p of (pathItem.parameters || []).concat(op.parameters || [])) {
      const r = resolve(doc, p);
      byKey.set(r.in + ":" + r.name, r);
    }
    return [...byKey.values()];
  }

  function parametersTable(doc, params) {
    const rows = params.map((p) => el("tr", null,
      el("td", null, el("code", { text: p.name })),
      el("td", { text: p.in }),
      el("td", { text: p.required ? "required" : "optional" }),
      el("td", { text: (resolve(doc, p.schema).type || "") + (p.description ? " - " + p.description : "") })));
    return el("table", null, el("tr", null, el("th", { text: "Name" }), el("th", { text: "In" }),
      el("th", { text: "" }), el("th", { text: "Schema" })), ...rows);
  }

  function responsesBlock(doc, responses) {
    const list = el("div", { class: "responses" });
    for (const [code, ref] of Object.entries(responses || {})) {
      const r = resolve(doc, ref);
      const d = el("details", null, el("summary", null, el("span", { class: "status", text: code }), " " + (r.description || "")));
      const headers = Object.entries(r.headers || {});
      if (headers.length) {
        d.append(el("p", null, "Headers: " + headers.map(([name, h]) => {
          const hr = resolve(doc, h);
          return name + (hr.required ? " (required)" : "");
        }).join(", ")));
      }
      for (const [ctype, media] of Object.entries(r.content || {})) {
        d.append(el("p", null, el("code", { text: ctype })));
        if (media.schema) d.append(schemaBlock(doc, media.schema));
      }
      list.append(d);
    }
    return list;
  }

  function formBody(obj) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(obj || {})) p.append(k, typeof v === "string" ? v : JSON.stringify(v));
    return p;
  }

  function tryForm(doc, method, path, pathItem, op, params) {
    const form = el("form", { class: "try" });
    const inputs = [];
    for (const p of params.filter((q) => q.in === "path" || q.in === "query")) {
      const id = "in-" + op.operationId + "-" + p.name;
      const input = el("input", { id: id, type: "text", autocomplete: "off", spellcheck: "false",
        placeholder: p.required ? "required" : "optional" });
      inputs.push([p, input]);
      form.append(el("label", { for: id, text: p.name + " (" + p.in + ")" }), input);
    }
    let bodyArea = null;
    let ctypeSelect = null;
    const rb = op.requestBody ? resolve(doc, op.requestBody) : null;
    if (rb && rb.content) {
      const ctypes = Object.keys(rb.content).filter((c) => c !== "multipart/form-data");
      const bid = "body-" + op.operationId;
      const cid = "ctype-" + op.operationId;
      ctypeSelect = el("select", { id: cid }, ...ctypes.map((c) => el("option", { value: c, text: c })));
      const media = rb.content["application/json"] || rb.content[ctypes[0]];
      bodyArea = el("textarea", { id: bid, spellcheck: "false" });
      bodyArea.value = JSON.stringify(example(doc, media.schema, 0), null, 2);
      form.append(el("label", { for: cid, text: "Content-Type" }), ctypeSelect,
        el("label", { for: bid, text: "Body (JSON; sent as a form when a form type is chosen)" }), bodyArea);
    }
    const tid = "token-" + op.operationId;
    const token = el("input", { id: tid, type: "text", autocomplete: "off", spellcheck: "false",
      placeholder: (op.security && op.security.length ? "required" : "optional") + "; empty: the token at the top" });
    form.append(el("label", { for: tid, text: "Bearer token" }), token);
    const send = el("button", { type: "submit", text: "Send" });
    const result = el("div", { class: "result" });
    form.append(send, result);

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      let url = path;
      const query = new URLSearchParams();
      for (const [p, input] of inputs) {
        const v = input.value.trim();
        if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(v));
        else if (v !== "") query.append(p.name, v);
      }
      if ([...query.keys()].length) url += "?" + query.toString();
      const headers = new Headers();
      const tok = token.value.trim() || (bearer ? bearer.value.trim() : "");
      if (tok) headers.set("Authorization", "Bearer " + tok);
      const init = { method: method.toUpperCase(), headers: headers, credentials: "omit", cache: "no-store" };
      if (bodyArea && bodyArea.value.trim() !== "") {
        const ctype = ctypeSelect.value;
        if (ctype === "application/json") {
          init.body = bodyArea.value;
          headers.set("Content-Type", ctype);
        } else {
          let obj;
          try {
            obj = JSON.parse(bodyArea.value);
          } catch (e) {
            result.replaceChildren(el("p", { class: "fail", text: "The body is not JSON: " + e.message }));
            return;
          }
          init.body = formBody(obj); // fetch sets the form's Content-Type
        }
      }
      send.disabled = true;
      result.replaceChildren(el("p", { class: "note", text: "Sending " + init.method + " " + url + " ..." }));
      try {
        const res = await fetch(url, init);
        const text = await res.text();
        const hdrs = [];
        res.headers.forEach((v, k) => hdrs.push(k + ": " + v));
        let shown = text;
        try {
          const parsed = JSON.parse(text);
          shown = JSON.stringify(parsed, null, 2);
          const t = parsed && (parsed.access || parsed.token);
          if (typeof t === "string" && bearer && res.ok) bearer.value = t;
        } catch (e) { /* not JSON */ }
        const documented = Object.prototype.hasOwnProperty.call(op.responses || {}, String(res.status));
        result.replaceChildren(
          el("p", { class: "line " + (res.ok ? "ok" : "fail"), text: res.status + " " + res.statusText +
            (documented ? "" : " (not documented!)") }),
          el("pre", { text: hdrs.sort().join("\n") }),
          shown ? el("pre", { text: shown }) : el("p", { class: "note", text: "(no body)" }));
      } catch (e) {
        result.replaceChildren(el("p", { class: "fail", text: "Request failed: " + e.message }));
      } finally {
        send.disabled = false;
      }
    });
    return form;
  }

  function enhance(doc, article, method, path, pathItem, op) {
    const params = parametersOf(doc, pathItem, op);
    const more = el("details", { class: "more" }, el("summary", { text: "Details and try it out" }));
    if (params.length) more.append(el("h4", { text: "Parameters" }), parametersTable(doc, params));
    if (op.requestBody) {
      const rb = resolve(doc, op.requestBody);
      more.append(el("h4", { text: "Request body" + (rb.required ? "" : " (optional)") }));
      if (rb.description) more.append(el("p", { text: rb.description }));
      const types = Object.keys(rb.content || {});
      more.append(el("p", null, "Media types: " + types.join(", ")));
      const first = rb.content[types[0]];
      if (first && first.schema) more.append(schemaBlock(doc, first.schema));
    }
    more.append(el("h4", { text: "Responses" }), responsesBlock(doc, op.responses));
    more.append(el("h4", { text: "Try it out" }), tryForm(doc, method, path, pathItem, op, params));
    article.append(more);
  }

  async function main() {
    let doc;
    try {
      const res = await fetch(schemaURL, { headers: { Accept: "application/vnd.oai.openapi+json, application/json" }, credentials: "omit" });
      if (!res.ok) throw new Error(res.status + " " + res.statusText);
      doc = await res.json();
    } catch (e) {
      say("Could not load " + schemaURL + ": " + e.message, true);
      return;
    }
    document.getElementById("auth").hidden = false;
    let count = 0;
    for (const [path, pathItem] of Object.entries(doc.paths || {})) {
      for (const [method, op] of Object.entries(pathItem)) {
        if (!op || typeof op !== "object" || !op.responses) continue;
        const article = document.querySelector('article[data-operation-id="' + CSS.escape(op.operationId || "") + '"]');
        if (!article) continue;
        enhance(doc, article, method, path, pathItem, op);
        count++;
      }
    }
    say("OpenAPI " + doc.openapi + ": " + count + " operations loaded from " + schemaURL + ".");
  }

  main();
})();
