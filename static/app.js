/* Flasky's small glue between htmx, Flask-Moment, Bootstrap's validation styles and assistive technology, and the
   loader of the scripts only some pages need. */
(function () {
  "use strict";

  // The page's language, as <html lang> declares it: "en" or "zh-CN" (moment.js calls it "zh-cn").
  var language = document.documentElement.lang;

  function renderTimes() {
    if (window.moment) {
      window.moment.locale(language.toLowerCase());
    }
    if (typeof window.flask_moment_render_all === "function") {
      window.flask_moment_render_all();
    }
  }

  // htmx keeps snapshots of pages for Back in sessionStorage: after a language switch (a full page load in the new
  // language) they hold the old language, so drop them. A page the browser itself kept (its back/forward cache)
  // and that is in the old language is loaded again.
  var LANGUAGE_KEY = "flasky-language";
  try {
    if (window.sessionStorage.getItem(LANGUAGE_KEY) !== language) {
      window.sessionStorage.removeItem("htmx-history-cache");
      window.sessionStorage.setItem(LANGUAGE_KEY, language);
    }
  } catch (error) {
    // Storage refused (private mode, quota): htmx then keeps no snapshots either.
  }
  window.addEventListener("pageshow", function (event) {
    var current = null;
    try {
      current = window.sessionStorage.getItem(LANGUAGE_KEY);
    } catch (error) {
      return;
    }
    if (event.persisted && current && current !== language) {
      window.location.reload();
    }
  });

  // Inline validation swaps only the message: mirror it onto the field's style and ARIA state.
  function syncFieldValidity() {
    document.querySelectorAll(".invalid-feedback[data-field]").forEach(function (feedback) {
      var field = document.getElementById(feedback.dataset.field);
      if (!field) {
        return;
      }
      var invalid = feedback.textContent.trim() !== "";
      field.classList.toggle("is-invalid", invalid);
      field.setAttribute("aria-invalid", invalid ? "true" : "false");
    });
  }

  function showAlert(text) {
    var region = document.getElementById("flashes");
    if (!region) {
      return;
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger mt-3 mb-0";
    alert.textContent = text;
    region.replaceChildren(alert);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    renderTimes();
    syncFieldValidity();
    if (event.detail.boosted) {
      // A boosted navigation replaced the page: start screen readers and keyboards at its heading.
      var heading = document.querySelector("main h1");
      if (heading) {
        heading.focus({ preventScroll: true });
      }
    }
  });

  // A page restored from htmx's history cache holds already-rendered times: render them again so they tick.
  document.addEventListener("htmx:historyRestore", function () {
    document.querySelectorAll("[data-timestamp]").forEach(function (elem) {
      elem.classList.add("flask-moment");
    });
    renderTimes();
  });

  // A flash is news once: keep it out of the snapshot that Back restores.
  document.addEventListener("htmx:beforeHistorySave", function () {
    var region = document.getElementById("flashes");
    if (region) {
      region.replaceChildren();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target) {
      event.detail.target.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.target) {
      event.detail.target.removeAttribute("aria-busy");
    }
  });

  // The language cookie is shared by every tab: an answer in another language than this page's (switched in another
  // tab) is not swapped into it; the page is loaded again instead, whole, in the new language.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var answered = event.detail.xhr.getResponseHeader("Content-Language");
    if (answered && answered !== language) {
      event.detail.shouldSwap = false;
      window.location.assign(event.detail.boosted ? event.detail.pathInfo.responsePath : window.location.href);
    }
  });

  // A failed request of an element that polls (data-polling="true": static/live.js marks the live panel so) is not
  // news: the next poll tries again.
  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.elt.dataset.polling !== "true") {
      showAlert(document.body.dataset.unreachable);
    }
  });

  // A script only some pages need is named by the element it serves, in data-script (the home page's live panel names
  // static/live.js, whose opening comment says why), and loaded once per page load, the first time such an element is
  // on the page: when the page is parsed, or when a swap (a boosted navigation, a history restore) brings it. Until the
  // script has run, htmx leaves the element alone (hx-disable), so the script's handlers see it processed.
  var scripts = {};  // by path, whatever the version: true once run (or failed to load), else the elements waiting
  // htmx processes the parsed page on DOMContentLoaded, in a handler that runs before this one: an element released
  // earlier is processed with the page.
  var parsed = false;

  document.addEventListener("DOMContentLoaded", function () {
    parsed = true;
  });

  function release(element) {
    element.removeAttribute("hx-disable");
    if (parsed && element.isConnected) {
      window.htmx.process(element);
    }
  }

  function loadScripts(root) {
    root.querySelectorAll("[data-script]").forEach(function (element) {
      var path = element.dataset.script.split("?")[0];
      if (scripts[path] === true) {
        element.removeAttribute("hx-disable");  // held in a snapshot taken before its script had run
        return;
      }
      element.setAttribute("hx-disable", "");
      if (scripts[path]) {
        scripts[path].push(element);
        return;
      }
      scripts[path] = [element];
      var script = document.createElement("script");
      script.src = element.dataset.script;
      script.onload = script.onerror = function () {
        var waiting = scripts[path];
        scripts[path] = true;
        waiting.forEach(release);
      };
      document.head.appendChild(script);
    });
  }

  loadScripts(document);  // app.js is deferred: it runs once the page is parsed, before DOMContentLoaded
  document.addEventListener("htmx:afterSwap", function (event) {
    loadScripts(event.target);  // before htmx processes what the swap brought
  });
})();
