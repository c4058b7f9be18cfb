// The human scoring page: asks the server for the rollout leased to this rater, sends ratings and skips.
// Plain browser JavaScript, no build step and no libraries; all text goes in through textContent.
"use strict";

(() => {
  const RATER_KEY = "rlkafka.human.rater";
  const POLL_MS = 3000;   // how often an empty queue is asked again
  const STATS_MS = 5000;

  const state = {
    config: null,
    rater: null,
    current: null,        // the rollout on screen
    leaseEndsAt: 0,       // Date.now() when the lease runs out, by this browser's clock
    busy: false,
    pollTimer: null,
  };

  const $ = (id) => document.getElementById(id);

  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (e) { data = null; }
    }
    return { status: response.status, ok: response.ok, data };
  }

  function errorText(result) {
    return result.data && result.data.error ? result.data.error : "HTTP " + result.status;
  }

  function say(text, kind) {
    const message = $("message");
    message.textContent = text;
    message.className = "message" + (kind ? " " + kind : "");
  }

  function kbd(text) {
    const k = document.createElement("kbd");
    k.textContent = String(text);
    return k;
  }

  function formatSeconds(total) {
    const s = Math.max(0, Math.round(total));
    const m = Math.floor(s / 60);
    return m > 0 ? m + ":" + String(s % 60).padStart(2, "0") + " min" : s + " s";
  }

  // ---- configuration ----

  function renderConfig(config) {
    const { min, max } = config.scale;
    $("scorer").textContent = "scorer id: " + config.scorerId + " · scale " + min + "–" + max;
    const scale = $("scale");
    scale.replaceChildren();
    for (let r = min; r <= max; r++) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.rating = String(r);
      button.title = "rate " + r + " (key " + r + ")";
      const digit = document.createElement("span");
      digit.className = "digit";
      digit.textContent = String(r);
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = r === min ? "worst" : r === max ? "best" : "\u00a0";
      button.append(digit, label);
      button.addEventListener("click", () => rate(r));
      scale.append(button);
    }
    $("k-rate").replaceChildren(kbd(min), document.createTextNode(" … "), kbd(max));
    $("score-rule").textContent = "A rating becomes the reward on " + config.rewardsTopic + ": " + config.scoreRule + ".";
    $("lease-length").textContent = formatSeconds(config.leaseSeconds);
  }

  // ---- who is rating ----

  function startAs(name) {
    state.rater = name;
    localStorage.setItem(RATER_KEY, name);
    $("rater-name").textContent = name;
    $("who").hidden = true;
    $("work").hidden = false;
    say("");
    loadNext();
  }

  function changeRater() {
    clearTimeout(state.pollTimer);
    state.rater = null;
    state.current = null;
    $("work").hidden = true;
    $("who").hidden = false;
    $("rater").value = localStorage.getItem(RATER_KEY) || "";
    $("rater").focus();
  }

  // ---- the rollout on screen ----

  function showRollout(r) {
    state.current = r;
    state.leaseEndsAt = Date.now() + r.leaseSecondsLeft * 1000;
    const article = $("rollout");
    article.dataset.rolloutId = r.rolloutId;
    $("m-group").textContent = r.groupId;
    $("m-rollout").textContent = r.rolloutId + "  (" + (r.index + 1) + " of " + r.groupSize + ")";
    $("m-version").textContent = String(r.policyVersion);
    $("m-task").textContent = r.task;
    $("m-finish").textContent = r.finishReason;
    $("m-generator").textContent = r.generatorId;
    $("prompt").textContent = r.prompt;
    $("completion").textContent = r.completion;
    $("reference-block").hidden = r.referenceAnswer == null;
    $("reference").textContent = r.referenceAnswer == null ? "" : r.referenceAnswer;

    const rows = r.otherScores.map((s) => {
      const tr = document.createElement("tr");
      const id = document.createElement("td");
      id.textContent = s.scorerId;
      const score = document.createElement("td");
      score.textContent = Number(s.score).toFixed(3);
      tr.append(id, score);
      return tr;
    });
    $("other-scores").tBodies[0].replaceChildren(...rows);
    $("other-scores").hidden = rows.length === 0;
    $("no-other-scores").hidden = rows.length > 0;

    article.hidden = false;
    $("controls").hidden = false;
    $("empty").hidden = true;
    document.querySelectorAll("#scale button").forEach((b) => b.classList.remove("chosen"));
    updateLease();
  }

  function showEmpty() {
    state.current = null;
    $("rollout").hidden = true;
    $("rollout").dataset.rolloutId = "";
    $("controls").hidden = true;
    $("empty").hidden = false;
    $("lease").textContent = "";
  }

  function updateLease() {
    const lease = $("lease");
    if (!state.current) {
      lease.textContent = "";
      return;
    }
    const left = (state.leaseEndsAt - Date.now()) / 1000;
    if (left > 0) {
      lease.textContent = "reserved for you for " + formatSeconds(left);
      lease.className = "lease";
    } else {
      lease.textContent = "reservation expired: rate now, or someone else may get it";
      lease.className = "lease expired";
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    document.querySelectorAll("#controls button").forEach((b) => { b.disabled = busy; });
  }

  // ---- talking to the server ----

  async function loadNext() {
    clearTimeout(state.pollTimer);
    if (!state.rater) return;
    try {
      const result = await api("POST", "api/next", { rater: state.rater });
      refreshStats();
      if (result.status === 200) {
        showRollout(result.data);
        return;
      }
      showEmpty();
      if (result.status !== 204) say("Cannot get a rollout: " + errorText(result), "error");
    } catch (e) {
      showEmpty();
      say("Cannot reach the scoring server; trying again.", "error");
    }
    state.pollTimer = setTimeout(loadNext, POLL_MS);
  }

  async function rate(rating) {
    const r = state.current;
    if (!r || state.busy) return;
    const { min, max } = state.config.scale;
    if (rating < min || rating > max) return;
    setBusy(true);
    const button = document.querySelector('#scale button[data-rating="' + rating + '"]');
    if (button) button.classList.add("chosen");
    try {
      const result = await api("POST", "api/rate",
          { rater: state.rater, rolloutId: r.rolloutId, rating, comment: $("comment").value });
      if (result.ok) {
        say("Saved " + rating + " for " + r.rolloutId + " (reward " + Number(result.data.score).toFixed(2) + ").", "ok");
        $("comment").value = "";
        await loadNext();
      } else if (result.status === 404 || result.status === 409) {
        // someone else has it, or it was rated meanwhile: move on
        say("Not saved: " + errorText(result), "error");
        $("comment").value = "";
        await loadNext();
      } else {
        // bad input or Kafka away: the rollout stays on screen and can be rated again
        if (button) button.classList.remove("chosen");
        say("Not saved: " + errorText(result), "error");
      }
    } catch (e) {
      if (button) button.classList.remove("chosen");
      say("Not saved: cannot reach the scoring server.", "error");
    } finally {
      setBusy(false);
      refreshStats();
    }
  }

  async function skip() {
    const r = state.current;
    if (!r || state.busy) return;
    setBusy(true);
    try {
      const result = await api("POST", "api/skip", { rater: state.rater, rolloutId: r.rolloutId });
      say(result.ok ? "Skipped " + r.rolloutId + "." : "Skip refused: " + errorText(result), result.ok ? "" : "error");
      await loadNext();
    } catch (e) {
      say("Cannot reach the scoring server.", "error");
    } finally {
      setBusy(false);
    }
  }

  async function refreshStats() {
    try {
      const result = await api("GET", "api/stats");
      if (!result.ok) return;
      const s = result.data;
      $("stats").textContent = s.caughtUp
          ? s.waiting + " waiting · " + s.leased + " reserved · " + s.rated + " rated (" + s.ratedHere + " on this page)"
          : "reading earlier ratings…";
    } catch (e) {
      $("stats").textContent = "server unreachable";
    }
  }

  // ---- keyboard ----

  function onKey(event) {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
      if (event.key === "Escape") target.blur();
      return;   // typing a name or a comment: keys are text
    }
    if (event.ctrlKey || event.metaKey || event.altKey || !state.current) return;
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      rate(Number(event.key));
    } else if (event.key === "s" || event.key === "S") {
      event.preventDefault();
      skip();
    } else if (event.key === "c" || event.key === "C") {
      event.preventDefault();
      $("comment").focus();
    }
  }

  // ---- start ----

  async function init() {
    $("rater-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = $("rater").value.trim();
      if (name) {
        $("rater").blur();
        startAs(name);
      }
    });
    $("change-rater").addEventListener("click", changeRater);
    $("skip").addEventListener("click", skip);
    document.addEventListener("keydown", onKey);
    setInterval(updateLease, 1000);
    setInterval(refreshStats, STATS_MS);

    const result = await api("GET", "api/config");
    state.config = result.data;
    renderConfig(state.config);
    refreshStats();
    const saved = localStorage.getItem(RATER_KEY);
    if (saved) {
      startAs(saved);
    } else {
      $("rater").focus();
    }
  }

  init().catch(() => say("Cannot reach the scoring server; reload the page.", "error"));
})();
