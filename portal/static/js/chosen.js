// A closed <select> on a phone cuts a long option (华中科技大学同济医学院附属同济医院 · …): a select with
// data-chosen names the element that repeats the chosen option in full. Without this file the server
// renders the same line after each submit.
document.addEventListener("change", function (e) {
  var select = e.target;
  if (!select || !select.dataset || !select.dataset.chosen) {
    return;
  }
  var out = document.getElementById(select.dataset.chosen);
  var option = select.selectedOptions && select.selectedOptions[0];
  if (out) {
    out.textContent = option && option.value ? "已选择：" + option.text : "";
  }
});
