"""The API docs page at ``/docs``, self-contained so it works offline (lesson 03).

FastAPI's default page loads Swagger UI from a CDN, which fails without a network and trusts a
third party with the page. Swagger UI's assets are not installed here (and the shop adds no
dependency for a docs page), so this page is plain HTML and a little script, no external asset:
it reads ``/openapi.json`` and lists every operation with its parameters, body, and each
response (errors are ``application/problem+json``). ``/openapi.json`` itself is what clients and
code generators use.
"""

DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>shop gateway API</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }
  h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
  details { border: 1px solid #ddd; border-radius: 4px; margin: .4rem 0; padding: .3rem .6rem; }
  summary { cursor: pointer; }
  .method { display: inline-block; font-weight: bold; width: 4.5rem; }
  code, pre { background: #f5f5f5; padding: 0 .2rem; }
  pre { overflow: auto; padding: .5rem; }
</style>
</head>
<body>
<h1 id="title">shop gateway API</h1>
<p>The machine-readable document is <a href="/openapi.json">/openapi.json</a>. Log in with
<code>POST /api/v1/auth/token</code> (form fields <code>username</code>, <code>password</code>)
and send the token as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<div id="api">loading /openapi.json ...</div>
<script>
"use strict";
function el(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}
fetch("/openapi.json").then(r => r.json()).then(doc => {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  const root = document.getElementById("api");
  root.textContent = "";
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags || ["other"])[0];
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  for (const [tag, ops] of Object.entries(byTag)) {
    root.appendChild(el("h2", tag));
    for (const [method, path, op] of ops) {
      const box = el("details");
      const summary = el("summary");
      summary.appendChild(el("span", method.toUpperCase())).className = "method";
      summary.appendChild(el("code", path));
      summary.appendChild(document.createTextNode(" " + (op.summary || "")));
      box.appendChild(summary);
      if (op.description) box.appendChild(el("p", op.description));
      if (op.security) box.appendChild(el("p", "needs a token: " + JSON.stringify(op.security)));
      for (const p of op.parameters || []) {
        box.appendChild(el("p", p.in + " " + p.name + (p.required ? " (required): " : ": ")
          + JSON.stringify(p.schema)));
      }
      if (op.requestBody) {
        box.appendChild(el("p", "body:"));
        box.appendChild(el("pre", JSON.stringify(op.requestBody.content, null, 1)));
      }
      const list = el("ul");
      for (const [status, r] of Object.entries(op.responses)) {
        list.appendChild(el("li", status + " " + r.description + " "
          + Object.keys(r.content || {}).join(", ")));
      }
      box.appendChild(list);
      root.appendChild(box);
    }
  }
}).catch(err => {
  document.getElementById("api").textContent = "cannot read /openapi.json: " + err;
});
</script>
</body>
</html>
"""
