// The admin dashboard's refresh (admin/dashboard_routes.py): every few seconds the live part
// of the page is fetched again and swapped in, without a reload. Without this script the
// page reloads itself (a meta refresh in <noscript>). Not run while the tab is hidden.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) {
    return;
  }
  var every = Number(live.getAttribute("data-refresh") || 5) * 1000;
  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch("/admin/dashboard/live", { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.redirected || !answer.ok) {
          // The session ended (the login page came back): the whole page shows it.
          window.location.reload();
          return null;
        }
        return answer.text();
      })
      .then(function (html) {
        if (html !== null) {
          live.innerHTML = html;
        }
      })
      .catch(function () {
        // Offline for a moment: the next round tries again.
      });
  }
  window.setInterval(refresh, every);
})();
