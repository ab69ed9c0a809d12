// The study page: one card at a time from the server's JSON API, keyboard and touch alike.
// Every URL is relative, so each request carries the run's token in its path (/s/<token>/…).
(function () {
  "use strict";

  var MAX_ANSWER_MS = 60000;           // as Anki: a card left open counts one minute at most
  var SUSPENDED = "Suspended.";
  var BURIED = "Buried until tomorrow (u undoes it).";
  var state = { view: "loading", deck: null, card: null, shown: false, shownAt: 0, busy: false,
                readOnlyReason: null };
  var $ = function (id) { return document.getElementById(id); };

  // ---- talking to the server -------------------------------------------------------------

  function api(path, body) {
    var options = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    };
    return fetch("api/" + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || ("the server answered " + response.status));
          error.reason = data.reason;
          throw error;
        }
        return data;
      });
    });
  }

  function deckQuery() {
    return state.deck ? "?deck=" + encodeURIComponent(state.deck) : "";
  }

  function rememberDeck() {
    var url = new URL(window.location.href);
    if (state.deck) url.searchParams.set("deck", state.deck); else url.searchParams.delete("deck");
    window.history.replaceState(null, "", url.pathname + url.search);
    $("deck-name").textContent = state.deck || "All decks";
  }

  // ---- views -------------------------------------------------------------------------------

  function show(view) {
    state.view = view;
    ["loading", "review", "decks", "summary", "stats", "browse"].forEach(function (name) { $(name).hidden = name !== view; });
    $("answer-bar").hidden = view !== "review";
    document.body.dataset.view = view;
  }

  function setCounts(counts, current) {
    ["new", "learning", "review"].forEach(function (kind) {
      $("count-" + kind).textContent = counts[kind];
      $("count-" + kind).parentNode.classList.toggle("current", current === kind);
    });
  }

  function queueOf(card) {
    if (!card) return null;
    if (card.state === "new") return "new";
    return card.state === "review" ? "review" : "learning";
  }

  function next() {
    return api("next" + deckQuery()).then(function (data) {
      setCounts(data.counts, queueOf(data.card));
      if (data.card) showCard(data.card); else showSummary(data.summary);
    }).catch(fail);
  }

  function showCard(card) {
    state.card = card;
    state.shown = false;
    state.shownAt = Date.now();
    setHtml(card.front_html);
    $("show-answer").hidden = false;
    $("ratings").hidden = true;
    Object.keys(card.intervals).forEach(function (rating) {
      var slot = document.querySelector('[data-ivl="' + rating + '"]');
      if (slot) slot.textContent = card.intervals[rating];
    });
    $("where").textContent = card.path + ":" + card.line;
    $("edit").href = card.obsidian_url;
    show("review");
    window.scrollTo(0, 0);
    var input = document.getElementById("typeans");
    if (input) input.focus();
  }

  function showAnswer() {
    if (!state.card || state.shown) return;
    state.shown = true;
    var typed = document.getElementById("typeans");
    var answer = typed ? typed.value.trim() : "";
    setHtml(state.card.back_html);
    if (typed) showTyped(answer);
    $("show-answer").hidden = true;
    $("ratings").hidden = false;
    if (window.notecardsSliders) window.notecardsSliders.attach(state.card, { api: api, fill: fill, current: currentCard });
    var mark = document.querySelector("#card #answer");
    if (mark && mark.getBoundingClientRect().top > window.innerHeight * 0.5) mark.scrollIntoView({ block: "start" });
  }

  // A type-in card: what was typed goes under the answer line, above the expected answer.
  function showTyped(answer) {
    var line = document.querySelector("#card #answer");
    var note = document.createElement("p");
    note.className = "nc-typed";
    note.textContent = answer ? "You typed: " : "Nothing typed.";
    if (answer) {
      var typed = document.createElement("b");
      typed.textContent = answer;
      note.appendChild(typed);
    }
    if (line) line.after(note); else $("card").prepend(note);
  }

  // Card HTML is Anki's: media named by bare file names (sounds as [sound:name]), math between
  // \( \) and \[ \]. It is parsed in an inert <template> first, so no image starts loading
  // before its name is mapped to this server's media/ route.
  function setHtml(html) {
    fill($("card"), html);
  }

  // Put card HTML into `element`: media names mapped to media/, links opened elsewhere, math typeset.
  function fill(element, html) {
    var template = document.createElement("template");
    template.innerHTML = html.replace(/\[sound:([^\]"<>]+)\]/g, function (_all, name) {
      return '<audio controls preload="none" src="' + name.replace(/&/g, "&amp;") + '"></audio>';
    });
    template.content.querySelectorAll("[src]").forEach(function (element) {
      var src = element.getAttribute("src");
      if (src && !/^([a-z][a-z0-9+.-]*:|\/|#)/i.test(src)) element.setAttribute("src", "media/" + src);
    });
    template.content.querySelectorAll("a[href]").forEach(function (link) {
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    });
    element.replaceChildren(template.content);
    typeset(element);
  }

  function currentCard() {
    return state.view === "review" && state.shown && state.card ? state.card.id : null;
  }

  function typeset(element) {
    if (typeof window.renderMathInElement !== "function") return;
    window.renderMathInElement(element, {
      delimiters: [
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false }
      ],
      throwOnError: false,
      ignoredClasses: ["nc-sim-source"]
    });
  }

  function showSummary(summary) {
    $("summary-title").textContent = summary.studied ? "Session complete" : "Nothing due right now";
    $("stat-studied").textContent = summary.studied;
    $("stat-time").textContent = duration(summary.seconds);
    $("stat-again").textContent = summary.studied ? Math.round(summary.again_rate * 100) + "%" : "–";
    $("stat-tomorrow").textContent = summary.due_tomorrow;
    $("summary-undo").hidden = !summary.studied;
    // learning cards are shown ahead of their due time, so an empty queue has none left either
    $("summary-note").textContent = (state.deck ? "Every due card of " + state.deck + " is done." : "Every due card is done.") +
      " Come back tomorrow, or choose another deck.";
    show("summary");
  }

  function duration(seconds) {
    if (seconds < 60) return Math.round(seconds) + " s";
    var minutes = Math.round(seconds / 60);
    return minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function openDecks() {
    api("decks").then(function (data) {
      var rows = $("deck-rows");
      rows.replaceChildren(deckRow(null, "All decks", total(data.decks), 0));
      data.decks.slice().sort(function (a, b) { return a.name.localeCompare(b.name); }).forEach(function (deck) {
        var depth = deck.name.split("::").length - 1;
        rows.appendChild(deckRow(deck.name, deck.name.split("::").pop(), deck, depth));
      });
      show("decks");
      var chosen = rows.querySelector('[aria-current="true"] button') || rows.querySelector("button");
      if (chosen) chosen.focus();
    }).catch(fail);
  }

  function total(decks) {          // a parent deck's counts already hold its subdecks'
    return decks.filter(function (d) { return d.name.indexOf("::") < 0; }).reduce(function (sum, d) {
      return { new: sum.new + d.new, learning: sum.learning + d.learning, review: sum.review + d.review };
    }, { new: 0, learning: 0, review: 0 });
  }

  function deckRow(name, label, counts, depth) {
    var row = document.createElement("tr");
    if (name === state.deck) row.setAttribute("aria-current", "true");
    var cell = document.createElement("td");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "deck-link";
    button.style.paddingLeft = (0.6 + depth * 1.1) + "rem";
    button.textContent = label;
    button.title = name || "every deck";
    button.addEventListener("click", function () { chooseDeck(name); });
    cell.appendChild(button);
    row.appendChild(cell);
    ["new", "learning", "review"].forEach(function (kind) {
      var td = document.createElement("td");
      td.className = "num " + kind + (counts[kind] ? "" : " zero");
      td.textContent = counts[kind];
      row.appendChild(td);
    });
    return row;
  }

  function openStats() {
    window.notecardsStats.open({ api: api, show: show, fail: fail, deck: state.deck });
  }

  function openBrowse() {
    window.notecardsBrowse.open({ api: api, show: show, fail: fail, toast: toast, typeset: typeset, deck: state.deck });
  }

  function chooseDeck(name) {
    state.deck = name;
    rememberDeck();
    next();
  }

  // ---- actions -------------------------------------------------------------------------------

  function once(action) {
    if (state.busy) return;
    state.busy = true;
    action().then(function () { state.busy = false; }, function (error) { state.busy = false; fail(error); });
  }

  function rate(rating) {
    if (!state.card || !state.shown) return;
    var card = state.card;
    var spent = Math.min(Date.now() - state.shownAt, MAX_ANSWER_MS);
    once(function () {
      return api("answer", { card_id: card.id, rating: rating, duration_ms: spent }).then(function (result) {
        if (result.leech) toast("Leech: this card keeps being forgotten, so it is now suspended and tagged leech. Rewrite it in the note.", 10000, card.id);
        return next();
      }).catch(function (error) {
        if (error.reason !== "read-only") throw error;
        toast("Not saved: " + (state.readOnlyReason || error.message.replace(/^not saved: /, "")) +
              ". Moving on; this card comes back next time.", 6000);
        return api("skip", { card_id: card.id }).then(next);
      });
    });
  }

  function undo() {
    once(function () {
      return api("undo", {}).then(function (result) {
        toast(result.undone ? "Undone." : "Nothing to undo.");
        return next();
      });
    });
  }

  function cardAction(name, message) {
    if (!state.card || state.view !== "review") return;
    var card = state.card;
    once(function () {
      return api(name, { card_id: card.id }).then(function () {
        toast(message, name === "suspend" ? 6000 : 2500, name === "suspend" ? card.id : null);
        return next();
      });
    });
  }

  function edit() {
    if (!state.card || state.view !== "review") return;
    toast(state.card.path + ":" + state.card.line);
    window.location.href = state.card.obsidian_url;
  }

  function toggleTheme() {
    var theme = window.notecardsTheme.toggle();
    $("theme-button").setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
  }

  var toastTimer = null;
  // A short message above the answer buttons; `unsuspend` (a card id) adds a button that
  // takes the suspension back, so a leech or a mistaken `s` is undone from the review screen.
  function toast(message, ms, unsuspend) {
    var box = $("toast");
    $("toast-text").textContent = message;
    $("toast-unsuspend").hidden = !unsuspend;
    $("toast-unsuspend").onclick = unsuspend ? function () {
      box.hidden = true;
      once(function () { return api("unsuspend", { card_id: unsuspend }).then(function () { toast("Unsuspended."); return next(); }); });
    } : null;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, ms || 2500);
  }

  function fail(error) {
    if (error instanceof TypeError) {                 // fetch itself failed: no server
      toast("The study server does not answer: start `notecards study` again, then reload.", 8000);
      return;
    }
    toast("Problem: " + (error && error.message ? error.message : error), 6000);
  }

  // ---- input -------------------------------------------------------------------------------

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if ($("help").open) return;                       // the dialog handles its own keys (Esc)
    var key = event.key;
    if (event.target && event.target.matches && event.target.matches("input:not([type=range]), textarea, [contenteditable]")) {
      if (key === "Enter" && state.view === "review" && !state.shown) { event.preventDefault(); showAnswer(); }
      return;                                         // typing an answer: no shortcuts
    }
    var onButton = event.target && event.target.closest && event.target.closest("button, a, input");
    if (state.view === "review" && (key === " " || key === "Enter") && !(key === "Enter" && onButton && !onButton.closest("#answer-bar"))) {
      event.preventDefault();
      if (state.shown) rate(3); else showAnswer();
      return;
    }
    var handled = true;
    if (state.view === "review" && state.shown && key >= "1" && key <= "4") rate(Number(key));
    else if (key === "u" || key === "U") undo();
    else if (key === "e") edit();
    else if (key === "s") cardAction("suspend", SUSPENDED);
    else if (key === "-") cardAction("bury", BURIED);
    else if (key === "d") { if (state.view === "decks") next(); else openDecks(); }
    else if (key === "t") toggleTheme();
    else if (key === "b") { if (state.view === "browse") next(); else openBrowse(); }
    else if (key === "g") { if (state.view === "stats") next(); else openStats(); }
    else if (key === "?") $("help").showModal();
    else if (key === "Escape" && (state.view === "decks" || state.view === "stats" || state.view === "browse")) next();
    else handled = false;
    if (handled) event.preventDefault();
  }

  function wire() {
    document.addEventListener("keydown", onKey);
    $("show-answer").addEventListener("click", showAnswer);
    $("card").addEventListener("click", function (event) {
      if (!event.target.closest("a, button, summary, details")) showAnswer();
    });
    document.querySelectorAll(".rate").forEach(function (button) {
      button.addEventListener("click", function () { rate(Number(button.dataset.rating)); });
    });
    $("undo").addEventListener("click", undo);
    $("summary-undo").addEventListener("click", undo);
    $("bury").addEventListener("click", function () { cardAction("bury", BURIED); });
    $("suspend").addEventListener("click", function () { cardAction("suspend", SUSPENDED); });
    $("edit").addEventListener("click", function () { if (state.card) toast(state.card.path + ":" + state.card.line); });
    $("deck-button").addEventListener("click", function () { if (state.view === "decks") next(); else openDecks(); });
    $("summary-decks").addEventListener("click", openDecks);
    $("theme-button").addEventListener("click", toggleTheme);
    $("stats-button").addEventListener("click", function () { if (state.view === "stats") next(); else openStats(); });
    $("stats-back").addEventListener("click", next);
    $("browse-button").addEventListener("click", function () { if (state.view === "browse") next(); else openBrowse(); });
    $("browse-back").addEventListener("click", next);
    $("help-button").addEventListener("click", function () { $("help").showModal(); });
  }

  function start() {
    wire();
    state.deck = new URL(window.location.href).searchParams.get("deck");
    api("state").then(function (info) {
      state.readOnlyReason = info.read_only_reason;
      if (!state.deck && info.deck) state.deck = info.deck;
      rememberDeck();
      document.title = info.vault + " · notecards study";
      if (!info.writable) {
        $("banner").textContent = "Read-only: reviews cannot be saved" +
          (info.read_only_reason ? " (" + info.read_only_reason + ")" : "") +
          ". Answers are not saved: each card is passed over for this session and nothing is recorded; make the history folder writable and start again to keep your reviews.";
        $("banner").hidden = false;
      }
      return next();
    }).catch(fail);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
