// The stats page: the server draws each chart as SVG (coloured by the theme's CSS variables),
// this puts them in place and changes the deck.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var NAMES = ["heatmap", "forecast", "retention", "counts", "buttons"];

  function load(app, deck) {
    return app.api("stats" + (deck ? "?deck=" + encodeURIComponent(deck) : "")).then(function (data) {
      var select = $("stats-deck");
      select.replaceChildren(new Option("All decks", ""));
      data.decks.forEach(function (name) { select.appendChild(new Option(name, name)); });
      select.value = deck || "";
      NAMES.forEach(function (name) { $("chart-" + name).innerHTML = data.charts[name]; });
      var total = data.stats.total_reviews;
      $("stats-total").textContent = total.toLocaleString() + " answer" + (total === 1 ? "" : "s") +
        " in the history" + (deck ? " for " + deck : "") + ".";
      app.show("stats");
      var box = $("chart-heatmap");
      box.scrollLeft = box.scrollWidth;          // the latest weeks in view on a narrow screen
    });
  }

  function open(app) {
    var select = $("stats-deck");
    select.onchange = function () { load(app, select.value || null).catch(app.fail); };
    load(app, app.deck).catch(app.fail);
  }

  window.notecardsStats = { open: open };
})();
