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

  // Times a swap brings are hidden until moment.js writes them: write them before the browser paints the swap (htmx
  // settles ~20 ms later), or a new row's "… ago" shows blank for a frame.
  document.addEventListener("htmx:afterSwap", renderTimes);

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

  // Text typed through an input method (pinyin, kana, Hangul …) fires "input" for every key of a composition ("z",
  // "zh", … "zhang") before the character is chosen. Fields that search or check as one types trigger on
  // "text-input" instead (hx-trigger="text-input changed …"): fired on input outside a composition, and when a
  // composition ends with its text committed. (htmx's filter, input[!event.isComposing], is evaluated code, which
  // the CSP forbids.)
  function textInput(event) {
    if (!event.isComposing) {
      event.target.dispatchEvent(new CustomEvent("text-input"));
    }
  }
  document.addEventListener("input", textInput);
  document.addEventListener("compositionend", textInput);

  // htmx's history snapshots hold markup, not what was typed or chosen since: a restored page would show the rows of
  // its address under emptied controls. A form marked data-follows-address takes its controls' values from the
  // address again when htmx restores a snapshot (Back, Forward), and when the browser's back/forward cache does.
  function followAddress() {
    var query = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[data-follows-address]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (control) {
        if (control.name && (control.tagName === "SELECT" || control.type === "search" || control.type === "text")) {
          control.value = query.get(control.name) || "";
          if (control.tagName === "SELECT" && control.selectedIndex < 0) {
            control.selectedIndex = 0;  // a value the list does not offer: its first choice, as the server answers
          }
        }
      });
    });
  }
  document.addEventListener("htmx:historyRestore", followAddress);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      followAddress();
    }
  });

  // The language switcher comes back to this page: to its address now, which htmx may have moved since the page was
  // rendered (a search pushes ?q=…), rather than to the "next" rendered with it (what serves without JavaScript).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var root = form.dataset.scriptRoot || "";
    var path = window.location.pathname;
    if (form.id === "language-switcher" && form.elements.next && path.indexOf(root + "/") === 0) {
      form.elements.next.value = path.slice(root.length) + window.location.search;
    }
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
