// FrameTable (dashboard/components.py): a whole table as one Dash component, served to any app
// that renders one (dashboard/__init__.py, _js_dist). Dash's renderer spends about a
// millisecond on every component it mounts; these cells are plain React elements, and every
// value is a text child, so the data is shown, never interpreted.
(function () {
  "use strict";
  var h = window.React.createElement;

  // A link to another view of this app, opened as dcc.Link opens it: no reload.
  function openInApp(event) {
    if (event.metaKey || event.shiftKey || event.altKey || event.ctrlKey) {
      return;
    }
    event.preventDefault();
    window.history.pushState({}, "", event.currentTarget.getAttribute("href"));
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  }

  function firstCell(text, link) {
    if (!link) {
      return text;
    }
    if (link.store !== undefined) {  // assets/table_links.js writes the value into the store
      return h("a", {href: "#", className: "table-link", "data-store": link.store,
                     "data-value": link.value}, text);
    }
    if (typeof link.href === "string" && link.href.charAt(0) === "/") {  // this app's views only
      return h("a", {href: link.href, className: "table-link", onClick: openInApp}, text);
    }
    return text;
  }

  function FrameTable(props) {
    var columns = props.columns || [];
    var marked = new Set(props.marked || []);
    var links = props.links;
    var head = h("thead", null, h("tr", null, columns.map(function (column, i) {
      return h("th", {key: i, className: column.className || undefined}, column.label);
    })));
    var body = h("tbody", null, (props.rows || []).map(function (row, r) {
      return h("tr", {key: r, className: marked.has(r) ? "table-danger" : undefined},
        row.map(function (text, i) {
          return h("td", {key: i, className: (columns[i] || {}).className || undefined},
                   i === 0 && links ? firstCell(text, links[r]) : text);
        }));
    }));
    return h("div", {className: "table-responsive frame-table"},
             h("table", {className: props.className}, head, body));
  }

  window.returnlens = Object.assign(window.returnlens || {}, {FrameTable: FrameTable});
})();
