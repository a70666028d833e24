(function () {
  "use strict";
  var holder = document.getElementById("slipcatch-figures");
  if (!holder || typeof window.Plotly === "undefined") {
    return;
  }
  var figures = JSON.parse(holder.textContent);
  document.documentElement.className += " js";
  Object.keys(figures).sort().forEach(function (id) {
    var el = document.getElementById(id);
    var fig = figures[id];
    if (el) {
      window.Plotly.newPlot(el, fig.data, fig.layout, fig.config);
    }
  });
  // Printed pages are narrower than the screen: redraw the charts to the print width.
  function resizeAll() {
    Object.keys(figures).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) {
        window.Plotly.Plots.resize(el);
      }
    });
  }
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
}());
