// Live simulations: on the answer side of a model card, a native range input per free parameter
// of its model. Moving one asks the server to redraw the card's simulation at those values and
// swaps the figure and caption in place; "Reset" puts the card's own back. One request at a time:
// moves made while one is out are sent together when it returns, so the last position always wins.
(function () {
  "use strict";

  function format(value) {
    var text = Number(value.toPrecision(3)).toString();
    return text.replace("-", "\u2212");
  }

  function attach(card, app) {
    var sim = document.querySelector("#card .nc-sim");
    if (!sim) return;
    app.api("sliders?card_id=" + encodeURIComponent(card.id)).then(function (data) {
      if (app.current() !== card.id || !data.sliders.length) return;
      build(card, sim, data, app);
    }).catch(function () { /* the card stays as it is: its own figure is already shown */ });
  }

  function build(card, sim, data, app) {
    var original = Array.prototype.map.call(sim.childNodes, function (node) { return node.cloneNode(true); });
    var form = document.createElement("form");
    form.className = "nc-sliders";
    form.setAttribute("aria-label", "Model parameters");
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var head = document.createElement("div");
    head.className = "nc-sliders-head";
    var title = document.createElement("span");
    title.textContent = "Try other values";
    var reset = document.createElement("button");
    reset.type = "button";
    reset.className = "secondary nc-reset";
    reset.textContent = "Reset";
    head.append(title, reset);
    form.appendChild(head);

    var inputs = data.sliders.map(function (slider) {
      var label = document.createElement("label");
      label.className = "nc-slider";
      var name = document.createElement("span");
      name.className = "nc-slider-name";
      name.textContent = slider.label;
      var input = document.createElement("input");
      input.type = "range";
      input.min = "0";
      input.max = String(slider.values.length - 1);
      input.step = "1";
      input.value = String(slider.start);
      input.dataset.name = slider.name;
      input.dataset.scale = slider.scale;
      var output = document.createElement("output");
      label.append(name, input, output);
      form.appendChild(label);
      var shown = function () {
        var value = slider.values[Number(input.value)];
        output.textContent = format(value);
        input.setAttribute("aria-valuetext", slider.label + " = " + format(value));
        label.classList.toggle("moved", Number(input.value) !== slider.start);
        return value;
      };
      shown();
      return { slider: slider, input: input, shown: shown };
    });

    var status = document.createElement("p");
    status.className = "nc-sliders-status";
    status.setAttribute("role", "status");
    status.textContent = data.refit ? "Moving a value: " + data.refit + "." : "";
    form.appendChild(status);
    sim.after(form);

    var inFlight = false;
    var again = false;
    var generation = 0;            // a reset makes the answer to a request already out stale

    function values() {
      var out = {};
      inputs.forEach(function (entry) { out[entry.slider.name] = entry.shown(); });
      return out;
    }

    function send() {
      if (inFlight) { again = true; return; }
      inFlight = true;
      again = false;
      form.classList.add("busy");
      var sent = generation;
      app.api("redraw", { card_id: card.id, values: values() }).then(function (result) {
        if (app.current() !== card.id || sent !== generation) return;
        if (result.html) {
          app.fill(sim, result.html);
          sim.dataset.redrawn = "true";
        }
        status.textContent = result.problems.length ? result.problems.join("; ")
          : (result.refit ? result.refit.charAt(0).toUpperCase() + result.refit.slice(1) + "." : "");
        status.classList.toggle("problem", result.problems.length > 0);
      }).catch(function (error) {
        if (sent !== generation) return;
        status.textContent = "Not redrawn: " + error.message;
        status.classList.add("problem");
      }).then(function () {
        inFlight = false;
        form.classList.remove("busy");
        if (again && app.current() === card.id) send();
      });
    }

    inputs.forEach(function (entry) {
      entry.input.addEventListener("input", function () { entry.shown(); send(); });
    });
    reset.addEventListener("click", function () {
      again = false;
      generation += 1;
      inputs.forEach(function (entry) { entry.input.value = String(entry.slider.start); entry.shown(); });
      sim.replaceChildren.apply(sim, original.map(function (node) { return node.cloneNode(true); }));
      delete sim.dataset.redrawn;
      status.textContent = data.refit ? "Moving a value: " + data.refit + "." : "";
      status.classList.remove("problem");
    });
  }

  window.notecardsSliders = { attach: attach };
})();
