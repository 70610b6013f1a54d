// The slip's print button (centre/templates/centre_spot_slip.html): shown only when this
// script runs, so a browser without script sees the keyboard hint instead of a dead button.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
