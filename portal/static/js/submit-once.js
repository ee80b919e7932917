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
// An htmx form whose request got no answer — the connection failed or was reset, as when gunicorn stops
// (issue 18), or the proxy answered 502–504 — is sent again, at most twice (after 1 s, then 3 s), with the
// very form data of the first try: the same idempotency key or version, so a request that did land is not
// done twice. A resend says so (X-Resubmit), so that a version already moved on by the lost first try is not
// reported as someone else's change. Only what the user sent (a submit or a click) is resent: a check run on
// `change` runs again on the next change, and a newer request from the same element cancels a pending resend.
// Its buttons stay disabled meanwhile; after the last try the user is told the outcome is unknown.
(function () {
  var DELAYS = [1000, 3000];
  var PROXY_STATUS = [502, 503, 504];
  var SENT_BY_USER = ["submit", "click"];
  var tries = new WeakMap();
  var timers = new WeakMap();
  var again = new WeakSet(); // elements whose next request is a retry: no second hx-confirm

  function buttons(elt) {
    var form = elt.closest("form");
    return form ? Array.prototype.slice.call(form.querySelectorAll("button, input[type=submit]")) : [elt];
  }
  function busy(elt, on) {
    buttons(elt).forEach(function (b) {
      b.disabled = on;
      if (on) { b.setAttribute("aria-busy", "true"); } else { b.removeAttribute("aria-busy"); }
    });
  }
  function tell(elt, text) {
    var place = elt.closest("form") || elt.parentNode;
    var note = place.querySelector("[data-network-error]");
    if (!text) { if (note) { note.remove(); } return; }
    if (!note) {
      note = document.createElement("p");
      note.className = "error form-error";
      note.setAttribute("role", "alert");
      note.setAttribute("data-network-error", "");
      place.insertBefore(note, place.firstChild);
    }
    note.textContent = text;
  }
  function retry(e) {
    var d = e.detail, elt = d.elt, config = d.requestConfig;
    if (!config || config.verb === "get" || !document.body.contains(elt)) {
      return; // a GET refreshes itself the next time; a removed element has nothing left to send
    }
    var n = tries.get(elt) || 0;
    var trigger = config.triggeringEvent;
    if (n === 0 && !(trigger && SENT_BY_USER.indexOf(trigger.type) >= 0)) {
      return; // not sent by the user (a check on change, a poll): the next one runs by itself
    }
    if (n >= DELAYS.length) {
      tries.delete(elt);
      busy(elt, false);
      tell(elt, d.xhr && d.xhr.status
        ? "系统暂时无法访问，无法确认是否已提交。请稍后刷新页面查看是否已保存；紧急情况请致电 400-606-5033。"
        : "网络连接中断，无法确认是否已提交。请刷新页面查看是否已保存，未保存再重新提交。");
      return;
    }
    tries.set(elt, n + 1);
    busy(elt, true);
    timers.set(elt, window.setTimeout(function () {
      timers.delete(elt);
      busy(elt, false); // hx-disabled-elt disables them again for the request itself
      again.add(elt);
      htmx.ajax(config.verb, config.path, {source: elt, target: d.target, values: config.formData,
                                           headers: {"X-Resubmit": String(n + 1)}})
        .catch(function () {}); // a failed resend is handled by the events above, not as an uncaught error
    }, DELAYS[n]));
  }
  document.addEventListener("htmx:beforeRequest", function (e) { // the user sent something newer
    var pending = timers.get(e.detail.elt);
    if (pending && !again.has(e.detail.elt)) {
      window.clearTimeout(pending);
      timers.delete(e.detail.elt);
      tries.delete(e.detail.elt);
    }
  });
  document.addEventListener("htmx:sendError", retry); // after htmx re-enabled the buttons
  document.addEventListener("htmx:confirm", function (e) {
    if (again.delete(e.detail.elt)) { // the user confirmed the first try already
      e.preventDefault();
      e.detail.issueRequest(true);
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) { // an answer came (status 0: none)
    var status = e.detail.xhr && e.detail.xhr.status;
    if (PROXY_STATUS.indexOf(status) >= 0) {
      retry(e); // here, not at htmx:responseError: htmx re-enables the buttons in between
    } else if (status) {
      tries.delete(e.detail.elt);
      tell(e.detail.elt, "");
    }
  });
})();
