// Commitment form: the text template and the liability follow the chosen kind (no inline script).
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("commitment-form");
    if (!form) return;
    var kind = form.querySelector('select[name="kind"]');
    var text = form.querySelector('textarea[name="text"]');
    function templateFor(code) {
      var t = form.querySelector('template[data-template-kind="' + code + '"]');
      return t ? t.innerHTML.trim() : "";
    }
    function update(changed) {
      form.querySelectorAll(".liability").forEach(function (p) {
        p.hidden = p.getAttribute("data-kind") !== kind.value;
      });
      if (changed && text) {
        var known = Array.prototype.map.call(form.querySelectorAll("template"), function (t) { return t.innerHTML.trim(); });
        if (!text.value.trim() || known.indexOf(text.value.trim()) !== -1) text.value = templateFor(kind.value);
      }
    }
    kind.addEventListener("change", function () { update(true); });
    update(false);
  });
})();
