// Set the theme before the page paints (so a dark page never flashes white): the choice
// remembered in localStorage, else the system's prefers-color-scheme.
(function () {
  "use strict";
  var KEY = "notecards-theme";
  var media = window.matchMedia("(prefers-color-scheme: dark)");
  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function apply(theme) {
    document.documentElement.dataset.theme = theme;
    // card.css (shared with the exported deck) styles dark cards under Anki's .nightMode class
    document.documentElement.classList.toggle("nightMode", theme === "dark");
  }
  apply(stored() || (media.matches ? "dark" : "light"));
  media.addEventListener("change", function (event) {
    if (!stored()) apply(event.matches ? "dark" : "light");
  });
  window.notecardsTheme = {
    toggle: function () {
      var next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
      apply(next);
      return next;
    }
  };
})();
