/* Flasky's small glue between htmx, Flask-Moment, Bootstrap's validation styles and assistive technology. */
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

  document.addEventListener("htmx:sendError", function (event) {
    if (!isPoll(event)) {  // a background refresh that fails is not news: the next one tries again
      showAlert(document.body.dataset.unreachable);
    }
  });

  // Live greetings: htmx's SSE extension swaps each "greetings" event (the whole capped list) into
  // #recent-greetings, and the htmx:afterSettle handler above renders its times. Where no stream can be held (no
  // EventSource in this browser, or the server refused the stream: past its cap it answers 503, which closes an
  // EventSource for good), the panel polls data-poll-url every data-poll-seconds instead: never both at once, not
  // while the page is hidden, and only while the panel is on the page.
  var poll = null;

  function isPoll(event) {
    return poll !== null && event.detail.elt === poll.section;
  }

  function refresh() {
    var panel = poll.section.querySelector("#recent-greetings");
    if (panel) {
      window.htmx.ajax("GET", poll.section.dataset.pollUrl, { source: poll.section, target: panel, swap: "outerHTML" });
    }
  }

  function stopPolling() {
    if (poll !== null) {
      window.clearInterval(poll.timer);
      poll = null;
    }
  }

  function startPolling(section) {
    // Without sse-connect the extension neither opens a stream for the section nor reconnects the refused one.
    section.removeAttribute("sse-connect");
    section.dataset.polling = "true";  // kept in htmx's history snapshot: a restored panel polls again
    if (poll !== null && poll.section === section) {
      return;
    }
    stopPolling();
    var seconds = Number(section.dataset.pollSeconds) || 12;
    poll = { section: section, due: false, timer: null };
    poll.timer = window.setInterval(function () {
      if (!section.isConnected) {
        stopPolling();
      } else if (document.hidden) {
        poll.due = true;
      } else {
        poll.due = false;
        refresh();
      }
    }, seconds * 1000);
  }

  // htmx processes the section (first load, boosted navigation, history restore) before the extension connects it.
  document.addEventListener("htmx:beforeProcessNode", function (event) {
    var section = event.target;
    if (section.id === "live-greetings" && (!window.EventSource || section.dataset.polling === "true")) {
      startPolling(section);
    }
  });

  document.addEventListener("htmx:sseError", function (event) {
    var source = event.detail.source;
    if (event.target.id === "live-greetings" && source && source.readyState === window.EventSource.CLOSED) {
      startPolling(event.target);
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isPoll(event)) {
      noteFocus();
      if (event.detail.xhr.status !== 200) {
        event.detail.shouldSwap = false;  // an error answer is not news either: the panel stays as it is
      }
    }
  });

  // A restored snapshot, or a page back from the background, may be behind: catch up at once.
  document.addEventListener("htmx:historyRestore", function () {
    if (poll !== null && poll.section.isConnected) {
      refresh();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (poll !== null && poll.due && !document.hidden && poll.section.isConnected) {
      poll.due = false;
      refresh();
    }
  });

  // Each swap replaces the panel's links: keep a keyboard user on the same greeting (its <li> id is its event id),
  // or on the first one when it has left the capped list.
  var focusedGreeting = null;

  function noteFocus() {
    var active = document.activeElement;
    var item = active && active.closest ? active.closest("#recent-greetings li[id]") : null;
    focusedGreeting = item ? item.id : null;
  }

  document.addEventListener("htmx:sseBeforeMessage", noteFocus);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (focusedGreeting === null || event.target.id !== "recent-greetings") {
      return;
    }
    var item = document.getElementById(focusedGreeting);
    var link = (item && event.target.contains(item) ? item : event.target).querySelector("a");
    focusedGreeting = null;
    if (link) {
      link.focus({ preventScroll: true });
    }
  });
})();
