"""The `/docs` page: self-contained HTML (no CDN; servers may have no network) whose
small script lists the operations and schemas of `/api-spec/openapi.json`."""

from __future__ import annotations

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Attune API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:1rem 2rem}
h1{margin-bottom:.2rem} h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer} code,pre{font:13px ui-monospace,monospace}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;border-radius:4px}
.m{display:inline-block;width:4.2rem;font-weight:700;font-family:ui-monospace,monospace}
.get{color:#0a7} .post{color:#06c} .put{color:#a60} .delete{color:#c22} .patch{color:#808}
.perm{float:right;color:#666;font-size:13px} table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;font-size:14px}
</style></head>
<body><h1>Attune API</h1><p id="intro">Loading <a href="/api-spec/openapi.json">
/api-spec/openapi.json</a>&hellip;</p><div id="ops"></div><h2>Schemas</h2>
<div id="schemas"></div>
<script>
"use strict";
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const kid of kids) e.append(kid);
  return e;
}
function pre(value) { return el("pre", {}, JSON.stringify(value, null, 2)); }
function operation(path, method, op) {
  const head = el("summary", {}, el("span", {class: "m " + method}, method.toUpperCase()),
    el("code", {}, path), " \u2014 " + (op.summary || ""),
    el("span", {class: "perm"}, op["x-attune-permission"] || ""));
  const box = el("details", {id: op.operationId}, head);
  if (op.parameters) {
    const rows = op.parameters.map(p => el("tr", {}, el("td", {}, el("code", {}, p.name)),
      el("td", {}, p.in), el("td", {}, p.required ? "required" : ""),
      el("td", {}, p.description || JSON.stringify(p.schema))));
    box.append(el("h4", {}, "Parameters"), el("table", {}, ...rows));
  }
  if (op.requestBody) {
    box.append(el("h4", {}, "Request body"),
               pre(op.requestBody.content["application/json"].schema));
  }
  box.append(el("h4", {}, "Responses"));
  for (const [status, r] of Object.entries(op.responses)) {
    const schema = r.content ? r.content["application/json"].schema : null;
    box.append(el("div", {}, el("b", {}, status + " "), r.description || ""));
    if (schema && status < 400) box.append(pre(schema));
  }
  return box;
}
fetch("/api-spec/openapi.json").then(r => r.json()).then(spec => {
  document.getElementById("intro").textContent = spec.info.description;
  const byTag = {};
  for (const [path, methods] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(methods))
      (byTag[(op.tags || ["other"])[0]] ||= []).push(operation(path, method, op));
  const ops = document.getElementById("ops");
  for (const [tag, items] of Object.entries(byTag)) ops.append(el("h2", {}, tag), ...items);
  const schemas = document.getElementById("schemas");
  for (const [name, schema] of Object.entries(spec.components.schemas))
    schemas.append(el("details", {id: "schema-" + name}, el("summary", {}, name), pre(schema)));
}).catch(err => {
  document.getElementById("intro").textContent = "Could not load the spec: " + err;
});
</script></body></html>
"""
