// Live balances on the dashboard (progressive enhancement: without this script the page
// is the same, and a reload shows new balances).
//
// It listens to GET /events (Server-Sent Events from this site); when money moves on one
// of the customer's accounts it fetches this page again and swaps in the total and the
// account cards that changed, so every word and number shown is the server's, rendered
// by the same templates. It holds no text of its own: the announcement for screen
// readers is the status element's data-updated attribute.
(function () {
  "use strict";
  var accounts = document.querySelector("[data-live-events]");
  if (!accounts || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var status = document.getElementById("live-status");
  var source = new EventSource(accounts.getAttribute("data-live-events"));
  var busy = false;
  var again = false;
  var connectedBefore = false;

  function cards(root) {
    var found = {};
    root.querySelectorAll("[data-account-number]").forEach(function (card) {
      found[card.getAttribute("data-account-number")] = card;
    });
    return found;
  }

  function swap(next) {
    var total = document.getElementById("total-balance");
    var nextTotal = next.getElementById("total-balance");
    if (total && nextTotal && total.textContent !== nextTotal.textContent) {
      total.textContent = nextTotal.textContent;
    }
    var nextAccounts = next.querySelector("[data-live-events]");
    if (!nextAccounts) return false;
    var now = cards(accounts);
    var then = cards(nextAccounts);
    var same = Object.keys(now).sort().join() === Object.keys(then).sort().join();
    if (!same) {
      accounts.innerHTML = nextAccounts.innerHTML;
      return true;
    }
    var changed = false;
    Object.keys(then).forEach(function (number) {
      // Only the cards that changed, so focus elsewhere on the page stays where it is.
      if (now[number].innerHTML !== then[number].innerHTML) {
        now[number].innerHTML = then[number].innerHTML;
        changed = true;
      }
    });
    return changed;
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // Signed out meanwhile: the server sends the sign-in page; leave this one be.
        if (!response.ok || response.redirected) throw new Error("not the dashboard");
        return response.text();
      })
      .then(function (html) {
        var changed = swap(new DOMParser().parseFromString(html, "text/html"));
        if (changed && status) {
          status.textContent = "";
          status.textContent = status.getAttribute("data-updated");
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  source.addEventListener("ready", function () {
    // After a reconnection postings may have been missed.
    if (connectedBefore) refresh();
    connectedBefore = true;
  });
  source.addEventListener("posting", refresh);
  source.addEventListener("resync", refresh);
  source.addEventListener("ended", function () {
    source.close();
  });
})();
