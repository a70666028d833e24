(function () {
  "use strict";
  var holder = document.getElementById("slipcatch-figures");
  if (!holder || typeof window.Plotly === "undefined") {
    return;
  }
  var figures = JSON.parse(holder.textContent);
  var outline = figures.outline ? figures.outline.data : [];
  document.documentElement.className += " js";
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  // Colours of the page's scheme, applied on top of each figure's own (light) layout.
  function scheme(fig) {
    var isDark = dark !== null && dark.matches;
    var ink = isDark ? "#e2e6ea" : "#1d232a";
    var grid = isDark ? "#343c45" : "#e6eaee";
    var bg = isDark ? "#14181c" : "#ffffff";
    var update = {
      "paper_bgcolor": bg, "plot_bgcolor": bg, "font.color": ink,
      "legend.font.color": ink
    };
    var layout = fig.layout || {};
    ["xaxis", "yaxis"].forEach(function (ax) {
      if (layout[ax]) {
        update[ax + ".gridcolor"] = grid;
        update[ax + ".linecolor"] = isDark ? "#6b7682" : "#5b6670";
      }
    });
    if (layout.geo) {
      update["geo.bgcolor"] = "rgba(0,0,0,0)";
    }
    return update;
  }

  function ids() {
    return Object.keys(figures).sort().filter(function (id) {
      return document.getElementById(id) !== null;
    });
  }

  ids().forEach(function (id) {
    var el = document.getElementById(id);
    var fig = figures[id];
    // Maps share one world outline (drawn under their own traces).
    var data = fig.outline ? outline.concat(fig.data) : fig.data;
    window.Plotly.newPlot(el, data, fig.layout, fig.config).then(function () {
      return window.Plotly.relayout(el, scheme(fig));
    });
  });
  if (dark !== null && dark.addEventListener) {
    dark.addEventListener("change", function () {
      ids().forEach(function (id) {
        window.Plotly.relayout(document.getElementById(id), scheme(figures[id]));
      });
    });
  }
  // Printed pages are narrower than the screen: redraw the charts to the print width.
  function resizeAll() {
    ids().forEach(function (id) {
      window.Plotly.Plots.resize(document.getElementById(id));
    });
  }
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
}());
