// Browse: search the vault's cards as one types (one request at a time, the last text wins),
// open a card's info, suspend / unsuspend it or make it new again.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var STATES = { new: "new", learning: "learning", relearning: "relearning", review: "review" };
  var RATINGS = { 1: "Again", 2: "Hard", 3: "Good", 4: "Easy" };
  var KINDS = { suspend: "Suspended", unsuspend: "Unsuspended", bury: "Buried", reset: "Made new", set_due: "Due date set" };

  function day(iso) {
    return iso ? new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "–";
  }

  function stateText(card) {
    var text = STATES[card.state] || card.state;
    if (card.suspended) text += ", suspended";
    if (card.leech) text += ", leech";
    return text;
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function open(app) {
    var input = $("browse-query");
    var inFlight = false, again = false;

    function search() {
      if (inFlight) { again = true; return; }
      inFlight = true;
      again = false;
      app.api("browse?q=" + encodeURIComponent(input.value)).then(function (data) {
        var rows = $("browse-rows");
        rows.replaceChildren();
        data.rows.forEach(function (card) {
          var row = document.createElement("tr");
          var first = document.createElement("td");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "browse-open";
          button.textContent = card.text || "(empty front)";
          button.addEventListener("click", function () { info(card.id); });
          first.appendChild(button);
          row.appendChild(first);
          cell(row, card.deck, "deck");
          cell(row, stateText(card), "state");
          cell(row, day(card.due), "num");
          rows.appendChild(row);
        });
        app.typeset(rows);
        $("browse-total").textContent = data.total + " card" + (data.total === 1 ? "" : "s") +
          (data.total > data.rows.length ? ", the first " + data.rows.length + " shown" : "");
        $("browse-total").classList.remove("problem");
      }).catch(function (error) {
        $("browse-total").textContent = error.message;
        $("browse-total").classList.add("problem");
      }).then(function () {
        inFlight = false;
        if (again) search();
      });
    }

    function info(cardId) {
      return app.api("card?card_id=" + encodeURIComponent(cardId)).then(function (data) {
        var card = data.card;
        $("info-text").textContent = card.text || "(empty front)";
        app.typeset($("info-text"));
        $("info-source").textContent = card.path + ":" + card.line;
        $("info-source").href = data.obsidian_url;
        $("info-deck").textContent = card.deck + (card.tags.length ? " · " + card.tags.join(" ") : "");
        $("info-state").textContent = stateText(card);
        $("info-due").textContent = day(card.due);
        $("info-stability").textContent = data.stability ? data.stability.toFixed(1) + " days" : "–";
        $("info-difficulty").textContent = data.difficulty ? data.difficulty.toFixed(1) + " / 10" : "–";
        $("info-retrievability").textContent = data.retrievability !== null ? Math.round(data.retrievability * 100) + "%" : "–";
        $("info-reviews").textContent = data.reviews + " · " + data.lapses;
        var history = $("info-history");
        history.replaceChildren();
        data.history.slice().reverse().forEach(function (entry) {
          var row = document.createElement("tr");
          cell(row, new Date(entry.time).toLocaleString());
          cell(row, entry.kind === "review" ? RATINGS[entry.rating] : KINDS[entry.kind] || entry.kind,
               entry.kind === "review" ? "rating-" + entry.rating : "");
          cell(row, entry.interval || "", "num");
          history.appendChild(row);
        });
        if (!data.history.length) {
          var empty = document.createElement("tr");
          cell(empty, "Never studied.").colSpan = 3;
          history.appendChild(empty);
        }
        var suspend = $("info-suspend");
        suspend.textContent = card.suspended ? "Unsuspend" : "Suspend";
        suspend.onclick = function () { act(card.suspended ? "unsuspend" : "suspend", card.id, card.suspended ? "Unsuspended." : "Suspended."); };
        $("info-reset").onclick = function () { act("reset", card.id, "Made new: its history stays."); };
        $("info-due-form").hidden = card.state === "new";
        $("info-due-form").onsubmit = function (event) {
          event.preventDefault();
          var days = Number($("info-days").value);
          act("set_due", card.id, "Due " + (days === 0 ? "now." : "in " + days + " day" + (days === 1 ? "." : "s.")), { days: days });
        };
        $("card-info").hidden = false;
        $("card-info").scrollIntoView({ block: "nearest" });
      }).catch(app.fail);
    }

    function act(name, cardId, message, extra) {
      app.api(name, Object.assign({ card_id: cardId }, extra || {})).then(function () {
        app.toast(message);
        search();
        return info(cardId);
      }).catch(app.fail);
    }

    input.oninput = search;
    $("card-info").hidden = true;
    if (!input.value && app.deck) input.value = 'deck:"' + app.deck + '"';
    app.show("browse");
    input.focus();
    search();
  }

  window.notecardsBrowse = { open: open };
})();
