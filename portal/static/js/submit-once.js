// A form posted the ordinary way (not by htmx) is sent once: a second tap while the first request is in
// flight is ignored and the button shows it is busy. Without this file the server still keeps a double
// submit from creating anything twice (each create form carries an idempotency key).
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (e.defaultPrevented || !form || form.getAttribute("method") !== "post") {
    return; // htmx took this one (its buttons are disabled by hx-disabled-elt), or it is a search
  }
  if (form.dataset.submitting === "1") {
    e.preventDefault();
    return;
  }
  form.dataset.submitting = "1";
  var button = e.submitter;
  // after the browser has read the form: a disabled submitter would drop its own name and value
  window.setTimeout(function () {
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
  }, 0);
});
// Back to a page from the history cache: its forms may be sent again.
window.addEventListener("pageshow", function (e) {
  if (!e.persisted) {
    return;
  }
  document.querySelectorAll("form[data-submitting]").forEach(function (form) {
    delete form.dataset.submitting;
    form.querySelectorAll("button[aria-busy]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
  });
});
