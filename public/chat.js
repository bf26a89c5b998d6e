/*
 * The local test chat's page (development mode only; served by src/teams/dev-chat.ts).
 * Plain browser JavaScript, no build step. Renders the bot's messages and Adaptive Cards with
 * Microsoft's renderer (window.AdaptiveCards) and a Teams-like host config.
 *
 * Safety: bot text never reaches innerHTML unescaped. Plain text goes in with textContent; the
 * tiny markdown converter below escapes every piece of text first and only then adds <strong>,
 * <em>, <br> and <a> (http, https, mailto and tel links only).
 */
/* global AdaptiveCards, window, document, fetch, sessionStorage, setTimeout, crypto, URL */
(function () {
  'use strict';

  const pollMs = 400;
  const storageKey = 'image-sharing-dev-chat-conversation';
  const state = {
    conversationId: '',
    since: 0,
    epoch: null,
    timeZone: 'Europe/London',
    /** The instant messages pretend to be sent at (ISO), or null for the real time. */
    pretend: null,
    pending: 0,
    /** Until when the bot's own typing indicator shows (ms), as Teams shows it: until its next message. */
    botTypingUntil: 0,
    /** Latest rendered content per bot message id, for updates in place. */
    elements: new Map(),
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- text and markdown

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  /** Bold and italics in already escaped text, then line breaks. */
  function emphasis(escaped) {
    return escaped
      .replace(/\*\*([^*\n]+?)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[^\w*])\*([^*\n]+?)\*(?![\w*])/g, '$1<em>$2</em>')
      .replace(/(^|[^\w])_([^_\n]+?)_(?!\w)/g, '$1<em>$2</em>')
      .replace(/\r?\n/g, '<br>');
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return ['http:', 'https:', 'mailto:', 'tel:'].includes(parsed.protocol) ? parsed.href : null;
    } catch {
      return null;
    }
  }

  /**
   * Teams-flavoured markdown to HTML: **bold**, *italic* / _italic_, [label](url), bare URLs,
   * line breaks. The raw text is split into links and the rest; every piece is escaped on its own.
   */
  function markdownToHtml(text) {
    const link = /\[([^\]\n]+)\]\(([^\s)]+)\)|(https?:\/\/[^\s<>"')]+)/g;
    let html = '';
    let last = 0;
    let match;
    while ((match = link.exec(text)) !== null) {
      html += emphasis(escapeHtml(text.slice(last, match.index)));
      const label = match[1] !== undefined ? match[1] : match[3];
      const url = safeUrl(match[1] !== undefined ? match[2] : match[3]);
      html += url
        ? `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${emphasis(escapeHtml(label))}</a>`
        : emphasis(escapeHtml(match[0]));
      last = match.index + match[0].length;
    }
    return html + emphasis(escapeHtml(text.slice(last)));
  }

  // ---------------------------------------------------------------- time

  const partsFormat = (zone) =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });

  /** The zone's wall clock at an instant, as if it were UTC (ms). */
  function wallClockMs(instantMs, zone) {
    const parts = {};
    for (const p of partsFormat(zone).formatToParts(new Date(instantMs))) parts[p.type] = Number(p.value);
    return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  }

  /**
   * The instant at which the zone's clocks read the wall-clock time "YYYY-MM-DDTHH:MM". A time the
   * clocks skip (spring forward) is read as the same length of time after the change; a time they
   * show twice (autumn) is the first of the two. Both are said back in the note.
   */
  function wallClockToInstant(value, zone) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
    if (!m) return null;
    const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
    const hour = 3600 * 1000;
    // Offsets in force a day either side and at the wall time itself cover any change of the clocks.
    const offsets = new Set([-24, 0, 24].map((h) => wallClockMs(wall + h * hour, zone) - (wall + h * hour)));
    const candidates = [...offsets]
      .map((offset) => wall - offset)
      .filter((t) => wallClockMs(t, zone) === wall)
      .sort((a, b) => a - b);
    if (candidates.length === 1) return { instant: new Date(candidates[0]), note: null };
    if (candidates.length > 1)
      return {
        instant: new Date(candidates[0]),
        note: 'The clocks show this time twice that night; using the first (before they go back).',
      };
    // In the gap: use the offset before the change, which lands after it.
    const before = wallClockMs(wall - 24 * hour, zone) - (wall - 24 * hour);
    return {
      instant: new Date(wall - before),
      note: 'The clocks skip this time that night (they go forward); using the same moment after the change.',
    };
  }

  function describeInstant(date) {
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: state.timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).format(date);
    return local.replace(/,/g, '');
  }

  function shortTime(iso) {
    return new Intl.DateTimeFormat('en-GB', { timeZone: state.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
      new Date(iso),
    );
  }

  function updatePretend() {
    const input = $('pretend');
    const status = $('pretend-status');
    status.textContent = '';
    if (!input.value) {
      state.pretend = null;
      status.textContent = 'Messages carry the real time.';
      document.body.classList.remove('pretending');
      return;
    }
    const result = wallClockToInstant(input.value, state.timeZone);
    if (!result) {
      state.pretend = null;
      status.textContent = 'That is not a date and time; messages carry the real time.';
      return;
    }
    state.pretend = result.instant.toISOString();
    document.body.classList.add('pretending');
    const strong = document.createElement('strong');
    strong.textContent = describeInstant(result.instant);
    const code = document.createElement('code');
    code.textContent = state.pretend;
    status.append('Messages are sent as if at ', strong, ' (', code, ').');
    if (result.note) status.append(' ', result.note);
  }

  // ---------------------------------------------------------------- Adaptive Cards

  /** Teams (light theme)-like host config, with colours dark enough to read. */
  const foreground = (normal, subtle) => ({ default: normal, subtle });
  const foregroundColors = {
    default: foreground('#242424', '#616161'),
    dark: foreground('#242424', '#616161'),
    light: foreground('#ffffff', '#f0f0f0'),
    accent: foreground('#4f52b2', '#6264a7'),
    good: foreground('#0e700e', '#237b4b'),
    warning: foreground('#835c00', '#8a6a00'),
    attention: foreground('#c4314b', '#b3374f'),
  };
  const hostConfig = {
    supportsInteractivity: true,
    fontFamily: "'Segoe UI', system-ui, -apple-system, 'Helvetica Neue', Arial, sans-serif",
    spacing: { small: 4, default: 8, medium: 16, large: 20, extraLarge: 24, padding: 16 },
    separator: { lineThickness: 1, lineColor: '#e0e0e0' },
    fontSizes: { small: 12, default: 14, medium: 16, large: 20, extraLarge: 24 },
    fontWeights: { lighter: 300, default: 400, bolder: 600 },
    lineHeights: { small: 16, default: 20, medium: 22, large: 28, extraLarge: 32 },
    imageSizes: { small: 32, medium: 52, large: 100 },
    containerStyles: {
      default: { backgroundColor: '#ffffff', foregroundColors },
      emphasis: { backgroundColor: '#f5f5f5', foregroundColors },
      accent: { backgroundColor: '#e8ebfa', foregroundColors },
      good: { backgroundColor: '#e7f2da', foregroundColors },
      attention: { backgroundColor: '#fcf4f6', foregroundColors },
      warning: { backgroundColor: '#fbf6d9', foregroundColors },
    },
    actions: {
      maxActions: 6,
      spacing: 'default',
      buttonSpacing: 8,
      showCard: { actionMode: 'inline', inlineTopMargin: 8 },
      actionsOrientation: 'vertical',
      actionAlignment: 'stretch',
    },
    adaptiveCard: { allowCustomStyle: true },
    factSet: {
      title: { color: 'default', size: 'default', isSubtle: false, weight: 'bolder', wrap: true, maxWidth: 150 },
      value: { color: 'default', size: 'default', isSubtle: false, weight: 'default', wrap: true },
      spacing: 8,
    },
    inputs: { label: { requiredInputs: { weight: 'bolder', suffix: ' *' }, optionalInputs: { weight: 'bolder' } } },
  };

  let cardHostConfig = null;
  function adaptiveHostConfig() {
    if (!cardHostConfig) cardHostConfig = new AdaptiveCards.HostConfig(hostConfig);
    return cardHostConfig;
  }

  function setUpRenderer() {
    AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
      result.outputHtml = markdownToHtml(text);
      result.didProcess = true;
    };
  }

  /** What pressing a card's button sends: Teams sends an Action.Submit's data (with the inputs) as the message's value. */
  function executeAction(action, activityId) {
    if (action instanceof AdaptiveCards.OpenUrlAction) {
      const url = safeUrl(action.url);
      if (url) window.open(url, '_blank', 'noopener,noreferrer');
      else setStatus('This link is not an http(s), mailto or tel link; not opened.');
      return;
    }
    if (action instanceof AdaptiveCards.SubmitAction || action instanceof AdaptiveCards.ExecuteAction) {
      const data = action.data;
      const label = (action.title || 'a button').slice(0, 200);
      if (typeof data === 'string') {
        void send({ text: data, label });
        return;
      }
      const teams = data && typeof data === 'object' ? data.msteams : undefined;
      if (teams && teams.type === 'imBack' && typeof teams.value === 'string') {
        void send({ text: teams.value });
        return;
      }
      void send({ value: data && typeof data === 'object' ? data : {}, replyToId: activityId, label });
    }
  }

  function renderCard(content, activityId) {
    const holder = document.createElement('div');
    holder.className = 'card';
    try {
      const card = new AdaptiveCards.AdaptiveCard();
      card.hostConfig = adaptiveHostConfig();
      card.onExecuteAction = (action) => executeAction(action, activityId);
      card.parse(content);
      const element = card.render();
      if (!element) throw new Error('nothing rendered');
      holder.append(element);
    } catch (error) {
      holder.classList.add('card-error');
      const p = document.createElement('p');
      p.textContent = `This card could not be rendered (${error && error.message ? error.message : 'error'}). Its JSON:`;
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify(content, null, 2);
      holder.append(p, pre);
    }
    return holder;
  }

  // ---------------------------------------------------------------- the message list

  function setStatus(text) {
    $('status').textContent = text;
  }

  function fillBotContent(target, entry) {
    target.replaceChildren();
    if (entry.text) {
      const text = document.createElement('div');
      text.className = 'text';
      text.innerHTML = markdownToHtml(entry.text); // escaped piece by piece: see markdownToHtml
      target.append(text);
    }
    for (const attachment of entry.attachments || []) {
      if (attachment.contentType === 'application/vnd.microsoft.card.adaptive') {
        target.append(renderCard(attachment.content, entry.id));
      } else {
        const other = document.createElement('p');
        other.className = 'attachment';
        other.textContent = `[${attachment.contentType} attachment${attachment.name ? `: ${attachment.name}` : ''}: not shown here]`;
        target.append(other);
      }
    }
  }

  function meta(text) {
    const p = document.createElement('p');
    p.className = 'meta';
    p.textContent = text;
    return p;
  }

  function addMessage(entry) {
    const list = $('messages');
    const item = document.createElement('li');
    item.className = `message from-${entry.from}`;
    item.dataset.activityId = entry.id;
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    if (entry.from === 'user') {
      const sentAs = entry.timestamp ? `sent as ${describeInstant(new Date(entry.timestamp))}${entry.pretend ? ' (pretend)' : ''}` : '';
      item.append(meta(`You${sentAs ? ` · ${sentAs}` : ''}`));
      if (entry.pressed) {
        bubble.classList.add('pressed');
        bubble.textContent = `Pressed “${entry.pressed}”`;
      } else {
        bubble.textContent = entry.text || '';
      }
    } else {
      item.append(meta(`Image Sharing Assistant · ${shortTime(entry.at)}`));
      fillBotContent(bubble, entry);
    }
    item.append(bubble);
    list.append(item);
    if (entry.from === 'bot') state.elements.set(entry.id, bubble);
    return item;
  }

  function applyUpdate(entry) {
    const bubble = state.elements.get(entry.id);
    if (!bubble) return;
    fillBotContent(bubble, entry);
    const item = bubble.parentElement;
    item.classList.add('updated');
    let note = item.querySelector('.updated-note');
    if (!note) {
      note = document.createElement('p');
      note.className = 'meta updated-note';
      item.append(note);
    }
    note.textContent = `Updated ${shortTime(entry.at)}`;
  }

  /**
   * Shows what just arrived from its start: the end of the list, unless that would scroll the top of
   * the first new message (with the question it answers, when that is just above) out of view.
   */
  function scrollToNew(firstNew) {
    const list = $('messages');
    const previous = firstNew.previousElementSibling;
    const anchor = firstNew.classList.contains('from-bot') && previous && previous.classList.contains('from-user') ? previous : firstNew;
    const end = list.scrollHeight - list.clientHeight;
    list.scrollTop = Math.max(0, Math.min(end, anchor.offsetTop - 8));
  }

  // ---------------------------------------------------------------- talking to the server

  async function send(body) {
    if (!state.conversationId) return;
    state.pending += 1;
    showTyping();
    setStatus('');
    try {
      const payload = { conversationId: state.conversationId, ...body };
      if (state.pretend && !body.event) payload.pretend = state.pretend;
      const res = await fetch('/chat/api/send', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      if (!res.ok) {
        const problem = await res.json().catch(() => ({}));
        setStatus(`Not sent: ${problem.error || res.status}`);
      }
    } catch {
      setStatus('Not sent: the bot cannot be reached. Is npm start still running?');
    } finally {
      state.pending -= 1;
      showTyping();
      await poll();
    }
  }

  /** How long the bot's typing indicator shows without a message (Teams' own is a few seconds, renewed). */
  const botTypingMs = 15000;

  /** The indicator shows while a message is being sent, or while the bot says it is typing. */
  function showTyping() {
    const bot = Date.now() < state.botTypingUntil;
    $('typing').hidden = state.pending === 0 && !bot;
    $('typing').dataset.from = bot ? 'bot' : 'send';
  }

  let polling = null;
  function poll() {
    // One request at a time; callers share the one in flight.
    if (!polling) polling = pollOnce().finally(() => (polling = null));
    return polling;
  }

  async function pollOnce() {
    try {
      const res = await fetch(`/chat/api/messages?conversationId=${encodeURIComponent(state.conversationId)}&since=${state.since}`);
      if (!res.ok) return;
      const log = await res.json();
      if (state.epoch !== null && log.epoch !== state.epoch) {
        // The server restarted: its log starts again.
        $('messages').replaceChildren();
        state.elements.clear();
        state.since = 0;
        state.epoch = log.epoch;
        setStatus('The bot restarted: the conversation so far is gone from its log.');
        return;
      }
      state.epoch = log.epoch;
      let firstNew = null;
      for (const entry of log.entries) {
        if (entry.kind === 'message') {
          const item = addMessage(entry);
          firstNew = firstNew || item;
          // The bot's next message ends its typing indicator.
          if (entry.from === 'bot') state.botTypingUntil = 0;
        } else if (entry.kind === 'update') {
          applyUpdate(entry);
        } else if (entry.kind === 'typing') {
          state.botTypingUntil = Date.now() + botTypingMs;
          setTimeout(showTyping, botTypingMs + 50);
        }
        state.since = Math.max(state.since, entry.seq);
      }
      showTyping();
      if (firstNew) scrollToNew(firstNew);
      document.body.dataset.lastSeq = String(state.since);
    } catch {
      // The next poll tries again.
    }
  }

  function loop() {
    void poll().finally(() => setTimeout(loop, pollMs));
  }

  function newConversationId() {
    const random = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
    return `local-${random.replace(/[^A-Za-z0-9-]/g, '')}`.slice(0, 64);
  }

  function startConversation(fresh) {
    let id = fresh ? null : sessionStorage.getItem(storageKey);
    const isNew = !id;
    if (!id) {
      id = newConversationId();
      sessionStorage.setItem(storageKey, id);
    }
    state.conversationId = id;
    state.since = 0;
    state.elements.clear();
    $('messages').replaceChildren();
    document.body.dataset.conversationId = id;
    // As when the app is installed in Teams: the bot greets with its welcome card.
    if (isNew) void send({ event: 'install' });
  }

  async function start() {
    if (!window.AdaptiveCards) {
      setStatus('The Adaptive Cards renderer did not load (/chat/adaptivecards.min.js).');
      return;
    }
    setUpRenderer();
    try {
      const info = await (await fetch('/chat/api/info')).json();
      state.timeZone = info.timeZone || state.timeZone;
      state.epoch = info.epoch;
    } catch {
      // Keep Europe/London.
    }
    $('zone-label').textContent = `(${state.timeZone} time)`;

    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('text');
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      void send({ text });
    });
    for (const chip of document.querySelectorAll('[data-say]')) {
      chip.addEventListener('click', () => void send({ text: chip.dataset.say }));
    }
    $('pretend').addEventListener('input', updatePretend);
    $('pretend').addEventListener('change', updatePretend);
    $('pretend-clear').addEventListener('click', () => {
      $('pretend').value = '';
      updatePretend();
    });
    $('new-conversation').addEventListener('click', () => startConversation(true));
    updatePretend();
    startConversation(false);
    document.body.dataset.ready = 'true';
    loop();
  }

  // For the browser tests: the pure helpers, callable from the page.
  window.devChatInternals = Object.freeze({ markdownToHtml, wallClockToInstant });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start());
  else void start();
})();
