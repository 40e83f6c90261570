/* The home page's live "Recently greeted" panel (templates/live/panel.html): its polling fallback and focus keeping.

How it is loaded: only where the panel is, and not from a <script> tag in a page. The layout's <head> is the same on
every page (layout/assets.html is rendered once per app), and a boosted navigation or a history restore onto the home
page swaps the <body> only and runs no script in it (htmx's allowScriptTags is off; the CSP allows no inline script).
So the panel names this file in data-script (its content-hashed static_url()), and app.js appends it to the <head>
the first time an element naming it is on the page: at the first load of /, after a boosted navigation or a history
restore onto /; then it stays for the page's life (the browser's back/forward cache keeps it too). Until it has run,
app.js keeps htmx off the panel (hx-disable), so the htmx:beforeProcessNode handler below always sees the panel before
the SSE extension connects it: a refused stream is noticed, and never retried, however late this file arrives. */
(function () {
  "use strict";

  // htmx's SSE extension swaps each "greetings" event (the whole capped list) into #recent-greetings, and app.js's
  // htmx:afterSettle handler renders its times. Where no stream can be held (no EventSource in this browser, or the
  // server refused the stream: past its cap it answers 503, which closes an EventSource for good), the panel polls
  // data-poll-url every data-poll-seconds instead: never both at once, not while the page is hidden, and only while
  // the panel is on the page. A polling panel carries data-polling="true": app.js reports no failed request of it.
  var poll = null;

  // The extension opens its streams through htmx.createEventSource, and hands each error event of one to htmx's
  // triggerErrorEvent, which writes it to the console ("[object Event]", bigskysoftware/htmx-extensions#134) before
  // any listener can tell: yet a refused stream (the panel polls) and a cut one (EventSource reconnects by itself,
  // with the server's retry delay) are no error of the page. These streams give the extension's error handler no
  // error object, so nothing is logged; htmx:sseError still fires, with its source (handled below).
  window.htmx.createEventSource = function (url) {
    var source = new window.EventSource(url, { withCredentials: true });
    var handler = null;
    Object.defineProperty(source, "onerror", {
      get: function () { return handler; },
      set: function (value) { handler = value; }
    });
    source.addEventListener("error", function () {
      if (typeof handler === "function") {
        handler.call(source);
      }
    });
    return source;
  };

  function isPoll(event) {
    return poll !== null && event.detail.elt === poll.section;
  }

  function refresh() {
    var panel = poll.section.querySelector("#recent-greetings");
    if (panel) {
      // A poll that fails is not news (the next one tries again): neither is the rejection of htmx.ajax()'s promise.
      // settle:0ms, as the list's hx-swap says (partials/recent-greetings.html): its new links are boosted at once.
      var swap = { source: poll.section, target: panel, swap: "outerHTML settle:0ms" };
      window.htmx.ajax("GET", poll.section.dataset.pollUrl, swap).catch(function () {});
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
        event.detail.shouldSwap = false;  // an error answer is not news: the panel stays as it is
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
