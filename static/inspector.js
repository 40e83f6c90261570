/* The exchange inspector's panel (templates/inspector/panel.html; development only), loaded by app.js from the
   panel's data-script: it names this tab in every htmx request (X-Flasky-Tab, an id kept in sessionStorage, which is
   per tab), asks for the tab's list again after each htmx request but the panel's own, and keeps the panel open or
   closed from page to page. */
(function () {
  "use strict";

  var TAB_KEY = "flasky-inspector-tab";
  var OPEN_KEY = "flasky-inspector-open";

  function remembered(key, make) {
    try {
      var value = window.sessionStorage.getItem(key);
      if (value === null && make) {
        value = make();
        window.sessionStorage.setItem(key, value);
      }
      return value;
    } catch (error) {
      return make ? make() : null;  // storage refused: an id for this page only
    }
  }

  function newTabId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (byte) {
      return (byte + 256).toString(16).slice(1);
    }).join("");
  }

  var tab = remembered(TAB_KEY, newTabId);

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-Flasky-Tab"] = tab;
  });

  // A boosted navigation brings a new panel, which asks by itself ("load").
  document.addEventListener("htmx:afterRequest", function (event) {
    var panel = document.getElementById("inspector");
    var feed = document.getElementById("inspector-feed");
    if (feed && !panel.contains(event.detail.elt) && !event.detail.boosted) {
      window.htmx.trigger(feed, "inspector-refresh");
    }
  });

  function restoreOpen() {
    var details = document.getElementById("inspector-details");
    if (details) {
      details.open = remembered(OPEN_KEY) === "true";
    }
  }

  document.addEventListener("toggle", function (event) {
    if (event.target.id === "inspector-details") {
      try {
        window.sessionStorage.setItem(OPEN_KEY, String(event.target.open));
      } catch (error) {
        // Storage refused: the panel starts closed on the next page.
      }
    }
  }, true);
  document.addEventListener("htmx:afterSettle", restoreOpen);
  document.addEventListener("htmx:historyRestore", restoreOpen);
  restoreOpen();
})();
