// Decision form: show only the inputs the chosen decision takes (no inline script, CSP-friendly).
(function () {
  function update(form) {
    var chosen = form.querySelector('input[name="decision"]:checked');
    var fields = chosen ? (chosen.getAttribute("data-fields") || "").split(" ") : [];
    form.querySelectorAll("[data-field]").forEach(function (row) {
      var show = fields.indexOf(row.getAttribute("data-field")) !== -1;
      row.hidden = !show;
      row.querySelectorAll("textarea,select,input").forEach(function (el) { el.disabled = !show; });
    });
    var reason = form.querySelector('textarea[name="reason"]');
    if (reason) reason.required = !!(chosen && chosen.getAttribute("data-reason-required") === "1");
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("decision-form");
    if (!form) return;
    form.addEventListener("change", function () { update(form); });
    update(form);
  });
})();
