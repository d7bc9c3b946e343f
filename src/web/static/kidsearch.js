// kidsearch: small speed-ups only. Every page works the same without this file.
"use strict";

// "Turn off screen and tell an adult": cover the whole screen at once, then send the press.
// The server's covered page looks the same, so the hand-over is seamless.
function coverScreen() {
  if (document.getElementById("ks-cover")) return;
  var cover = document.createElement("div");
  cover.id = "ks-cover";
  cover.className = "covered-overlay";
  cover.setAttribute("role", "alert");
  var img = document.createElement("img");
  img.src = "/static/help.svg";
  img.alt = "";
  img.width = 120;
  img.height = 120;
  var h = document.createElement("h1");
  h.textContent = "Well done.";
  var p = document.createElement("p");
  p.textContent = "Tell an adult now.";
  cover.appendChild(img);
  cover.appendChild(h);
  cover.appendChild(p);
  document.body.appendChild(cover);
  document.body.classList.add("is-covered");
}

document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form.help")) return;
  event.preventDefault();
  coverScreen();
  var body = new URLSearchParams(new FormData(form));
  fetch(form.action, { method: "POST", body: body, credentials: "same-origin" })
    .then(function (response) { window.location.replace(response.redirected ? response.url : "/help"); })
    .catch(function () { form.submit(); });
});

// The covered page asks every 1.5 s whether an adult has cleared it, then goes home.
function pollCovered(statusUrl) {
  fetch(statusUrl, { credentials: "same-origin", cache: "no-store" })
    .then(function (r) { return r.json(); })
    .then(function (s) {
      if (s.covered === false) window.location.replace("/");
      else setTimeout(function () { pollCovered(statusUrl); }, 1500);
    })
    .catch(function () { setTimeout(function () { pollCovered(statusUrl); }, 3000); });
}

// Staff dashboard: new alerts arrive over Server-Sent Events and are added from a template
// (text only, never HTML from the stream). Whenever alerts may have been missed (the stream
// came back after a drop, or the server says "catch-up"), the list is re-read from the
// server's own page, which is built from the database; events that arrive meanwhile wait and
// are applied to the fresh list, so none is lost or shown twice.
function liveAlerts(list) {
  var template = document.getElementById("alert-template");
  if (!template || !window.EventSource) return;
  var waiting = null; // events held while the list is being re-read
  var dropped = false;

  // A refused search: today's count and list go up at once (text only, like the alerts).
  function addRefused(alert) {
    var count = document.getElementById("refused-today-count");
    if (count) count.textContent = String(Number(count.textContent) + 1);
    var refusedList = document.getElementById("refused-today");
    if (!refusedList || refusedList.querySelector('[data-incident="' + alert.incident.id + '"]')) return;
    var li = document.createElement("li");
    li.setAttribute("data-incident", alert.incident.id);
    li.textContent = new Date(alert.incident.at_ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + ": " +
      (alert.incident.device || "not enrolled") + " — " + (alert.incident.category || "");
    refusedList.prepend(li);
  }

  function addAlert(alert) {
    if (alert.incident.kind === "refused_query") return addRefused(alert);
    if (alert.incident.kind !== "tell_adult") return;
    if (list.querySelector('[data-incident="' + alert.incident.id + '"]')) return;
    var item = template.content.firstElementChild.cloneNode(true);
    item.setAttribute("data-incident", alert.incident.id);
    item.querySelector(".alert-device").textContent = alert.incident.device || "A browser that is not enrolled";
    item.querySelector(".alert-label").textContent = alert.incident.category ? "Just tried, refused (" + alert.incident.category + "): " : "On screen: ";
    item.querySelector(".alert-query").textContent = alert.incident.query || "(no search on screen)";
    item.querySelector(".alert-result").textContent = alert.incident.result_title || "";
    var notSaved = item.querySelector(".not-saved");
    if (notSaved && alert.incident.id < 0) notSaved.removeAttribute("hidden");
    else if (notSaved) notSaved.remove();
    item.querySelector(".alert-time").textContent = new Date(alert.incident.at_ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    item.querySelectorAll("form").forEach(function (f) {
      f.action = f.getAttribute("data-action").replace("{id}", alert.incident.id);
    });
    if (!alert.incident.result_url) {
      item.querySelectorAll(".needs-result").forEach(function (el) { el.remove(); });
    }
    var empty = document.getElementById("no-alerts");
    if (empty) empty.remove();
    list.prepend(item);
    flagTitle();
  }

  function clearedAlert(alert) {
    var item = list.querySelector('[data-incident="' + alert.incident.id + '"]');
    if (item && alert.incident.result_state !== "hidden") item.remove();
    else if (item) item.classList.add("cleared");
  }

  function flagTitle() {
    document.title = "(!) " + document.title.replace(/^\(!\) /, "");
  }

  function whenReady(apply) {
    return function (event) {
      var alert = JSON.parse(event.data);
      if (waiting) waiting.push(function () { apply(alert); });
      else apply(alert);
    };
  }

  function catchUp() {
    if (waiting) return;
    waiting = [];
    var before = list.querySelectorAll("[data-incident]").length;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("alerts");
        if (!fresh) return; // signed out meanwhile: leave the list as it is
        list.replaceChildren.apply(list, Array.prototype.map.call(fresh.children, function (n) { return document.importNode(n, true); }));
        if (list.querySelectorAll("[data-incident]").length > before) flagTitle();
      })
      .catch(function () { /* the next reconnect tries again */ })
      .then(function () {
        var held = waiting;
        waiting = null;
        held.forEach(function (apply) { apply(); });
      });
  }

  function connect() {
    var source = new EventSource(list.getAttribute("data-stream"));
    source.onopen = function () {
      list.setAttribute("data-live", "on");
      if (dropped) catchUp();
      dropped = false;
    };
    source.onerror = function () {
      list.setAttribute("data-live", "off");
      dropped = true;
      // The browser retries by itself after a dropped connection, but gives up on an answer
      // that is not a stream (the server was restarting behind a proxy): start again later.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 10000);
    };
    source.addEventListener("incident", whenReady(addAlert));
    source.addEventListener("cleared", whenReady(clearedAlert));
    source.addEventListener("catch-up", catchUp);
  }
  connect();
}

// The banner on every staff page: an alert waiting for an adult is in view wherever a member
// of staff is (a pre-run, the register, a dashboard scrolled down), with an optional sound.
// Text only; the count comes from /staff/alerts/open and moves with the alert stream.
function alertBanner(banner) {
  var text = banner.querySelector(".alert-banner-text");
  var sound = document.getElementById("alert-sound");
  if (document.querySelector("form[action='/staff/login']")) return; // not signed in
  var soundOn = function () { try { return localStorage.getItem("kidsearch-alert-sound") === "on"; } catch (e) { return false; } };
  function showSound() { sound.setAttribute("aria-pressed", soundOn() ? "true" : "false"); }
  sound.addEventListener("click", function () {
    try { localStorage.setItem("kidsearch-alert-sound", soundOn() ? "off" : "on"); } catch (e) { /* private mode: no sound */ }
    showSound();
  });
  showSound();
  function beep() {
    if (!soundOn() || !window.AudioContext) return;
    var ctx = new AudioContext(), tone = ctx.createOscillator(), gain = ctx.createGain();
    tone.frequency.value = 660; gain.gain.value = 0.2;
    tone.connect(gain); gain.connect(ctx.destination);
    tone.start(); tone.stop(ctx.currentTime + 0.4);
  }
  function refresh(fresh) {
    fetch("/staff/alerts/open", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (now) {
        if (!now.open) { banner.hidden = true; return; }
        text.textContent = now.open === 1 ? "An alert needs an adult: " + now.newest + "." : now.open + " alerts need an adult, the newest: " + now.newest + ".";
        banner.hidden = false;
        if (fresh) beep();
      })
      .catch(function () { /* signed out, or the server is restarting: no banner */ });
  }
  refresh(false);
  sound.hidden = false;
  if (!window.EventSource) return;
  fetch("/staff/alerts/open", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
    if (!r.ok || !(r.headers.get("content-type") || "").startsWith("application/json")) return;
    var source = new EventSource("/staff/alerts/stream");
    source.addEventListener("incident", function (event) {
      try { if (JSON.parse(event.data).incident.kind === "tell_adult") refresh(true); } catch (e) { /* ignore */ }
    });
    source.addEventListener("cleared", function () { refresh(false); });
    source.addEventListener("catch-up", function () { refresh(false); });
  }).catch(function () {});
}

// "Read it to me": the browser's own speech synthesis (nothing is sent anywhere). The buttons
// are hidden in the page and shown only here, where speaking can work.
function canSpeak() {
  return "speechSynthesis" in window && !!window.SpeechSynthesisUtterance;
}

function readAloud() {
  if (!canSpeak()) return;
  document.querySelectorAll("button.speak").forEach(speakable);
}

function speakable(button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-say") || "";
      var card = button.hasAttribute("data-say-card") && button.closest("article");
      if (card) {
        var title = card.querySelector("h2");
        var snippet = card.querySelector(".snippet");
        text = (title ? title.textContent : "") + (snippet ? ". " + snippet.textContent : "");
      }
      var input = button.getAttribute("data-say-input");
      var box = input && document.getElementById(input);
      if (box && box.value) text += " " + box.value;
      window.speechSynthesis.cancel();
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = "en-GB";
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
    });
}

// "Nearly time to stop. Search will rest in 4 minutes." (layout.rs `closing_soon`, worded the
// same): shown a few minutes before the class's search window closes and counted down; when
// it closes the page reloads, and the server says "Search is resting". The end comes from the
// page, or — a shared results page, drawn without it — from /window, asked at most once a
// minute (the answer is kept for the tab). Times are taken against the server's clock, not
// the iPad's.
var SOON_MS = 5 * 60000;
function restsSoon() {
  var section = document.getElementById("closing-soon");
  if (section) {
    var ends = Number(section.getAttribute("data-ends"));
    var skew = Number(section.getAttribute("data-now")) - Date.now();
    remember({ ends: ends, skew: skew, asked: Date.now() });
    countDown(section, ends, skew);
    return;
  }
  if (!document.querySelector("header.top form.help") || document.body.classList.contains("staff")) return;
  var known = recall();
  if (known && Date.now() - known.asked < 60000) {
    if (known.ends) countDown(warning(), known.ends, known.skew);
    return;
  }
  fetch("/window", { credentials: "same-origin", cache: "no-store" })
    .then(function (r) { return r.json(); })
    .then(function (w) {
      if (w.status !== "open") return;
      var skew = w.now_ms - Date.now();
      remember({ ends: w.ends_ms, skew: skew, asked: Date.now() });
      if (w.ends_ms) countDown(warning(), w.ends_ms, skew);
    })
    .catch(function () {});
}

function remember(w) {
  try { sessionStorage.setItem("kidsearch-window", JSON.stringify(w)); } catch (e) { /* private mode */ }
}

function recall() {
  try { return JSON.parse(sessionStorage.getItem("kidsearch-window") || "null"); } catch (e) { return null; }
}

// The same section the server draws, built here (text only) for a page drawn without it.
function warning() {
  var section = document.createElement("section");
  section.id = "closing-soon";
  section.className = "closing-soon";
  section.setAttribute("role", "status");
  section.hidden = true;
  var picture = document.createElement("span");
  picture.className = "picture";
  picture.setAttribute("aria-hidden", "true");
  picture.textContent = "\u23F3";
  var text = document.createElement("span");
  text.className = "closing-text";
  section.appendChild(picture);
  section.appendChild(text);
  if (canSpeak()) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "speak";
    var img = document.createElement("img");
    img.src = "/static/speaker.svg";
    img.alt = "";
    img.width = 32;
    img.height = 32;
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = "Read it to me";
    button.appendChild(img);
    button.appendChild(label);
    section.appendChild(button);
    speakable(button);
  }
  var main = document.querySelector("main");
  if (main) main.insertBefore(section, main.firstChild);
  return section;
}

function countDown(section, ends, skew) {
  var text = section.querySelector(".closing-text");
  var button = section.querySelector("button.speak");
  var asked = Date.now();
  function tick() {
    var left = ends - (Date.now() + skew);
    if (left <= 0) {
      // Forgotten first, so the resting page that follows does not count down again.
      remember({ ends: null, skew: skew, asked: 0 });
      window.location.reload();
      return;
    }
    // In the last minutes, asked again each minute: a teacher may give "+10 min".
    if (left <= SOON_MS && Date.now() - asked >= 60000) {
      asked = Date.now();
      fetch("/window", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (w) {
          if (w.status !== "open" || !w.ends_ms) return;
          ends = w.ends_ms;
          skew = w.now_ms - Date.now();
          remember({ ends: ends, skew: skew, asked: Date.now() });
          if (ends - (Date.now() + skew) > SOON_MS) section.hidden = true;
        })
        .catch(function () {});
    }
    if (left <= SOON_MS) {
      var minutes = Math.ceil(left / 60000);
      var words = "Nearly time to stop. Search will rest in " + minutes + (minutes === 1 ? " minute." : " minutes.");
      if (text.textContent !== words) text.textContent = words;
      if (button) button.setAttribute("data-say", words);
      section.hidden = false;
    }
    setTimeout(tick, Math.min(15000, Math.max(1000, left - SOON_MS)));
  }
  tick();
}

// Staff dashboard: "38 minutes left" beside each open window (home.rs `minutes_left`, worded
// the same), counted down; the page is re-read when one ends (it is then gone from the list).
function countdowns() {
  var spans = document.querySelectorAll(".countdown[data-ends]");
  if (!spans.length) return;
  // Against the server's clock (the staff PC's may be off).
  var skew = Number(spans[0].getAttribute("data-now")) - Date.now();
  function tick() {
    var ended = false;
    spans.forEach(function (span) {
      var left = Number(span.getAttribute("data-ends")) - (Date.now() + skew);
      if (left <= 0) ended = true;
      var minutes = Math.floor(left / 60000);
      span.textContent = minutes <= 0 ? "less than a minute left" : minutes === 1 ? "1 minute left" : minutes + " minutes left";
    });
    if (ended) window.location.reload();
    else setTimeout(tick, 10000);
  }
  tick();
}

document.addEventListener("DOMContentLoaded", function () {
  readAloud();
  restsSoon();
  countdowns();
  if (document.body.classList.contains("covered")) pollCovered(document.body.getAttribute("data-status"));
  var alerts = document.getElementById("alerts");
  if (alerts) liveAlerts(alerts);
  var banner = document.getElementById("alert-banner");
  if (banner) alertBanner(banner);
});

// Back to a page kept in the browser's memory after a press: ask the server again.
window.addEventListener("pageshow", function (event) {
  if (event.persisted) window.location.reload();
});
