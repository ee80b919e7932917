// Upload progress for the insured's document form; the page works without this file.
document.addEventListener("htmx:xhr:progress", function (e) {
  var bar = e.target.querySelector && e.target.querySelector("progress");
  if (bar && e.detail.lengthComputable) {
    bar.max = e.detail.total;
    bar.value = e.detail.loaded;
  }
});
// A refused upload answers 422/409 with the form and its messages: show it instead of dropping it.
document.addEventListener("htmx:beforeSwap", function (e) {
  if ((e.detail.xhr.status === 422 || e.detail.xhr.status === 409) && e.target.closest && e.target.closest(".documents-panel")) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
