// Links in the dashboard's HTML tables (dashboard/components.py, frame_table with a RowLink)
// write their row's value into a dcc.Store; the page's callbacks listen to that store.
// One listener for every table, instead of a Dash component per link.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-store]");
  if (!link || !window.dash_clientside || !window.dash_clientside.set_props) {
    return;
  }
  event.preventDefault();
  window.dash_clientside.set_props(link.dataset.store,
                                   {data: {value: link.dataset.value, at: Date.now()}});
});
