/// `/docs`: the OpenAPI document made readable by a small script of the page's own; nothing is
/// fetched from anywhere but this server.
enum DocsPage {
    static let html = HTMLPage.document(title: "agent-repl serve · API", style: #"""
    body { margin: 0 auto; max-width: 60rem; padding: 1rem; font: 15px/1.5 system-ui, sans-serif; color: #1d2330; }
    h1 { font-size: 1.4rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .3rem; font-family: ui-monospace, monospace; }
    .method { display: inline-block; min-width: 4.2rem; padding: 0 .4rem; border-radius: 4px; color: #fff; background: #3b6fd8; text-align: center; }
    .post { background: #2f9e5b; } .put { background: #c98a16; } .delete { background: #d04a3f; }
    pre { background: #f4f6fa; padding: .6rem; overflow-x: auto; font-size: 13px; border-radius: 6px; }
    details { margin: .2rem 0 .6rem; } summary { cursor: pointer; color: #52607a; }
    """#, body: #"""
    <h1 id="title">API</h1>
    <p id="description"></p>
    <p>The machine-readable document: <a href="/openapi.json">/openapi.json</a>.</p>
    <div id="paths"></div>
    <script>
    "use strict";
    const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
    function resolve(doc, schema) {
      if (schema && schema.$ref) return doc.components.schemas[schema.$ref.split("/").pop()];
      return schema;
    }
    function block(title, value) {
      const d = el("details"); d.appendChild(el("summary", title)); d.appendChild(el("pre", JSON.stringify(value, null, 2))); return d;
    }
    fetch("/openapi.json").then((r) => r.json()).then((doc) => {
      document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
      document.getElementById("description").textContent = doc.info.description;
      const root = document.getElementById("paths");
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          if (method === "parameters") continue;
          const h = el("h2"); h.appendChild(el("span", method.toUpperCase(), "method " + method)); h.appendChild(document.createTextNode(" " + path));
          root.appendChild(h);
          root.appendChild(el("p", op.summary));
          const params = (item.parameters || []).concat(op.parameters || []);
          if (params.length) root.appendChild(block("parameters", params));
          if (op.requestBody) root.appendChild(block("request body", resolve(doc, op.requestBody.content["application/json"].schema)));
          const ok = op.responses["200"];
          if (ok && ok.content && ok.content["application/json"]) root.appendChild(block("200 answer", resolve(doc, ok.content["application/json"].schema)));
          const errors = Object.keys(op.responses).filter((s) => s !== "200" && s !== "default");
          if (errors.length) root.appendChild(el("p", "Problems (application/problem+json): " + errors.join(", ")));
        }
      }
    });
    </script>
    """#)
}
