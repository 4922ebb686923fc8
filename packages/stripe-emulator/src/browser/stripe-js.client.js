/*
 * Kassa Stripe emulator: a Stripe.js double, for development and tests only.
 *
 * Load it instead of https://js.stripe.com/v3/ and it defines window.Stripe with the parts of
 * the Stripe.js surface the Kassa Stripe plugin uses (spec §11). It talks to the emulator it
 * was served from, renders plain DOM inputs instead of Stripe's iframes, and shows the
 * emulator's 3DS challenge page in a modal iframe.
 *
 * Stable selectors for browser tests (first card/payment element on the page):
 *   #kassa-card-number (name="cardnumber"), #kassa-card-expiry (name="exp-date", "MM / YY"),
 *   #kassa-card-cvc (name="cvc"), #kassa-card-postal (name="postal"), #kassa-card-error,
 *   #kassa-express-checkout-button, #kassa-3ds-modal > iframe#kassa-3ds-frame.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var BASE = script && script.src ? new URL(script.src).origin : window.location.origin;

  /* ---------- helpers ---------- */

  /* Form-encodes nested objects the way stripe-node does: a[b]=c, arr[0]=x. */
  function encode(obj, prefix, out) {
    out = out || [];
    Object.keys(obj).forEach(function (k) {
      var v = obj[k];
      var key = prefix ? prefix + '[' + k + ']' : k;
      if (v === undefined) return;
      if (v !== null && typeof v === 'object') encode(v, key, out);
      else out.push(encodeURIComponent(key) + '=' + encodeURIComponent(v === null ? '' : String(v)));
    });
    return out.join('&');
  }

  function intentIdFromSecret(secret) {
    var i = secret ? secret.indexOf('_secret_') : -1;
    return i > 0 ? secret.slice(0, i) : null;
  }

  function integrationError(message) {
    var e = new Error(message);
    e.name = 'IntegrationError';
    return e;
  }

  /* Integration mistakes the double noticed (late click resolve, missing complete(), …); tests read Stripe.kassaErrors. */
  var kassaErrors = [];
  function reportIntegrationError(message) {
    kassaErrors.push(message);
    console.error('[Stripe.js emulator] ' + message);
  }

  /* Amounts in the currency's Stripe exponent (§7.1), as the wallet sheet shows them: integer string arithmetic only. */
  var ZERO_DECIMAL = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'];
  var THREE_DECIMAL = ['bhd', 'jod', 'kwd', 'omr', 'tnd'];
  var TIMES_100 = ['isk', 'ugx'];
  function formatAmount(amount, currency) {
    var c = String(currency || '').toLowerCase();
    var n = String(Math.abs(Math.trunc(Number(amount) || 0)));
    var whole;
    if (ZERO_DECIMAL.indexOf(c) !== -1) whole = n;
    else if (TIMES_100.indexOf(c) !== -1) whole = n.length > 2 ? n.slice(0, -2) : '0';
    else {
      var e = THREE_DECIMAL.indexOf(c) !== -1 ? 3 : 2;
      var padded = n.length <= e ? new Array(e - n.length + 2).join('0') + n : n;
      whole = padded.slice(0, -e) + '.' + padded.slice(-e);
    }
    return whole + ' ' + c.toUpperCase();
  }

  function validationError(code, message) {
    return { type: 'validation_error', code: code, message: message };
  }

  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = Number(number[number.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function brandOf(n) {
    if (/^4/.test(n)) return 'visa';
    if (/^(5[1-5]|2[2-7])/.test(n)) return 'mastercard';
    if (/^3[47]/.test(n)) return 'amex';
    if (/^6(011|5)/.test(n)) return 'discover';
    if (/^35/.test(n)) return 'jcb';
    if (/^3(0|6|8)/.test(n)) return 'diners';
    if (/^62/.test(n)) return 'unionpay';
    return 'unknown';
  }

  /* ---------- Stripe instance ---------- */

  function Stripe(publishableKey, options) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey, options);
    if (typeof publishableKey !== 'string' || publishableKey.indexOf('pk_') !== 0) {
      throw integrationError('Invalid value for Stripe(): apiKey should be a publishable key (pk_test_...).');
    }
    options = options || {};
    this._key = publishableKey;
    this._account = options.stripeAccount || null;
    this._apiVersion = options.apiVersion || null;
  }

  Stripe.prototype._request = function (method, path, params) {
    var headers = { Authorization: 'Bearer ' + this._key };
    if (this._account) headers['Stripe-Account'] = this._account;
    if (this._apiVersion) headers['Stripe-Version'] = this._apiVersion;
    var url = BASE + path;
    var init = { method: method, headers: headers };
    var body = encode(params || {});
    if (method === 'GET') url += body ? '?' + body : '';
    else {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = body;
    }
    return fetch(url, init).then(function (res) {
      return res.json().then(function (json) {
        return { status: res.status, body: json };
      });
    }, function (err) {
      return { status: 0, body: { error: { type: 'api_connection_error', message: String(err) } } };
    });
  };

  Stripe.prototype.elements = function (options) {
    options = options || {};
    if (options.clientSecret && options.mode) throw integrationError('elements(): pass either clientSecret or mode, not both.');
    return new Elements(this, options);
  };

  Stripe.prototype._retrieve = function (kind, clientSecret) {
    var id = intentIdFromSecret(clientSecret);
    var path = kind === 'setup_intent' ? '/v1/setup_intents/' : '/v1/payment_intents/';
    return this._request('GET', path + id, { client_secret: clientSecret });
  };

  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    return this._retrieve('payment_intent', clientSecret).then(function (r) {
      return r.body.error ? { error: r.body.error } : { paymentIntent: r.body };
    });
  };

  Stripe.prototype.retrieveSetupIntent = function (clientSecret) {
    return this._retrieve('setup_intent', clientSecret).then(function (r) {
      return r.body.error ? { error: r.body.error } : { setupIntent: r.body };
    });
  };

  /* Creates a PaymentMethod from a card element (or the test wallet card). */
  Stripe.prototype._createCardPaymentMethod = function (element, billingDetails) {
    var params = { type: 'card' };
    if (!element) return Promise.reject(integrationError('No card or payment element to collect the card from: create and mount one first.'));
    if (element._type === 'expressCheckout') {
      // The wallet already handed over its card when the buyer approved the sheet.
      if (element._walletPm) return Promise.resolve({ paymentMethod: element._walletPm });
      return Promise.resolve({ error: validationError('incomplete', 'The wallet payment has not been approved yet.') });
    }
    if (element === 'wallet') {
      params.card = { token: 'tok_visa' }; // the deprecated payment request sheet hands over a Visa test card
    } else {
      var card = element._readCard();
      if (card.error) return Promise.resolve({ error: card.error });
      params.card = { number: card.number, exp_month: card.expMonth, exp_year: card.expYear, cvc: card.cvc };
      var postal = card.postalCode ? { address: { postal_code: card.postalCode } } : {};
      billingDetails = Object.assign({}, postal, billingDetails || {});
    }
    if (billingDetails && Object.keys(billingDetails).length) params.billing_details = billingDetails;
    return this._request('POST', '/v1/payment_methods', params).then(function (r) {
      if (r.body.error) {
        if (element && element._showError) element._showError(r.body.error.message);
        return { error: r.body.error };
      }
      return { paymentMethod: r.body };
    });
  };

  Stripe.prototype.createPaymentMethod = function (args) {
    args = args || {};
    var element = args.elements ? args.elements._cardSource() : args.card || args.element;
    var billing = args.billing_details || (args.params && args.params.billing_details);
    return this._createCardPaymentMethod(element, billing);
  };

  /* Shows the emulator's challenge page in a modal iframe; resolves when it reports back. */
  Stripe.prototype._challenge = function (intent) {
    var action = intent.next_action || {};
    var url = (action.use_stripe_sdk && action.use_stripe_sdk.stripe_js) || (action.redirect_to_url && action.redirect_to_url.url);
    if (!url) return Promise.resolve();
    return new Promise(function (resolve) {
      var modal = document.createElement('div');
      modal.id = 'kassa-3ds-modal';
      // Styles through CSSOM, never a style attribute: a page whose CSP has no 'unsafe-inline' for
      // styles (Kassa's) blocks style attributes, and the modal would then not be an overlay.
      modal.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center;z-index:2147483647';
      var frame = document.createElement('iframe');
      frame.id = 'kassa-3ds-frame';
      frame.title = '3D Secure test authentication';
      frame.style.cssText = 'width:420px;max-width:100%;height:480px;max-height:100%;background:#fff;border:0';
      frame.src = url + (url.indexOf('?') === -1 ? '?' : '&') + 'mode=frame';
      modal.appendChild(frame);
      function onMessage(ev) {
        var data = ev.data || {};
        if (data.type !== 'kassa-3ds-done' || data.intent !== intent.id) return;
        window.removeEventListener('message', onMessage);
        modal.remove();
        resolve(data.result);
      }
      window.addEventListener('message', onMessage);
      document.body.appendChild(modal);
    });
  };

  function returnUrlWith(returnUrl, kind, intent, ok) {
    var u = new URL(returnUrl, window.location.href);
    u.searchParams.set(kind, intent.id);
    u.searchParams.set(kind + '_client_secret', intent.client_secret);
    u.searchParams.set('redirect_status', ok ? 'succeeded' : 'failed');
    return u.toString();
  }

  var OK_STATUSES = ['succeeded', 'requires_capture', 'processing'];

  /*
   * The common confirm path for PaymentIntents and SetupIntents: create the PM, confirm,
   * run the challenge if needed, then resolve or redirect per `redirect` (§11.4).
   */
  Stripe.prototype._confirm = function (kind, clientSecret, pmSource, extra, opts) {
    var self = this;
    var id = intentIdFromSecret(clientSecret);
    if (!id) return Promise.reject(integrationError('Invalid client secret.'));
    var resultKey = kind === 'setup_intent' ? 'setupIntent' : 'paymentIntent';
    var path = (kind === 'setup_intent' ? '/v1/setup_intents/' : '/v1/payment_intents/') + id;
    var pmPromise;
    if (typeof pmSource === 'string') pmPromise = Promise.resolve({ paymentMethod: { id: pmSource } });
    else if (pmSource === null) pmPromise = Promise.resolve({ paymentMethod: null });
    else pmPromise = self._createCardPaymentMethod(pmSource.element, pmSource.billingDetails);

    function finish(intent) {
      var ok = OK_STATUSES.indexOf(intent.status) !== -1;
      if (!ok) {
        var err = Object.assign({}, intent.last_payment_error || intent.last_setup_error || { type: 'card_error', message: 'The payment failed.' });
        err[kind] = intent;
        return { error: err };
      }
      if (opts.redirect === 'always' && opts.returnUrl) {
        window.location.assign(returnUrlWith(opts.returnUrl, kind, intent, true));
        return new Promise(function () {}); // the page is navigating away
      }
      var out = {};
      out[resultKey] = intent;
      return out;
    }

    return pmPromise.then(function (pm) {
      if (pm.error) return { error: pm.error };
      var params = Object.assign({ client_secret: clientSecret }, extra || {});
      if (pm.paymentMethod) params.payment_method = pm.paymentMethod.id;
      if (opts.returnUrl) params.return_url = opts.returnUrl;
      return self._request('POST', path + '/confirm', params).then(function (r) {
        if (r.body.error) return { error: r.body.error };
        var intent = r.body;
        if (intent.status !== 'requires_action') return finish(intent);
        if (opts.handleActions === false) {
          var out = {};
          out[resultKey] = intent;
          return out;
        }
        // 3-D Secure runs outside the wallet sheet (§8.2): the sheet closes first.
        if (opts.beforeChallenge) opts.beforeChallenge();
        return self._challenge(intent).then(function () {
          return self._retrieve(kind, clientSecret);
        }).then(function (r2) {
          return r2.body.error ? { error: r2.body.error } : finish(r2.body);
        });
      });
    });
  };

  function confirmArgs(args) {
    args = args || {};
    var elements = args.elements;
    var clientSecret = args.clientSecret || (elements && elements._options.clientSecret);
    if (!clientSecret) return { error: integrationError('confirm: pass clientSecret, or create elements with a clientSecret.') };
    var confirmParams = Object.assign({}, args.confirmParams || {});
    var redirect = args.redirect || 'always';
    var returnUrl = confirmParams.return_url;
    delete confirmParams.return_url;
    if (redirect === 'always' && !returnUrl) return { error: integrationError('confirmParams.return_url is required when redirect is "always".') };
    var pmData = confirmParams.payment_method_data || {};
    delete confirmParams.payment_method_data;
    var express = elements && elements._expressActive ? elements._elements.expressCheckout : null;
    var source = confirmParams.payment_method || (express && express._walletPm ? express._walletPm.id : null) ||
      { element: elements ? elements._cardSource() : null, billingDetails: pmData.billing_details };
    delete confirmParams.payment_method;
    return { clientSecret: clientSecret, source: source, extra: confirmParams, opts: { redirect: redirect, returnUrl: returnUrl } };
  }

  Stripe.prototype.confirmPayment = function (args) {
    var a = confirmArgs(args);
    if (a.error) return Promise.reject(a.error);
    var els = args.elements;
    if (els && els._options.mode && !els._submitted) {
      return Promise.reject(integrationError('elements.submit() must be called before stripe.confirmPayment() when using deferred intent creation.'));
    }
    var self = this;
    var express = els && els._expressActive ? els._elements.expressCheckout : null;
    var run = function () {
      if (!express) return self._confirm('payment_intent', a.clientSecret, a.source, a.extra, a.opts);
      return confirmExpress();
    };
    // Deferred intents: the intent the server created must be for what the page (and the wallet sheet) showed.
    if (els && els._options.mode === 'payment' && els._options.amount !== undefined && (window.KassaStripeEmulator || {}).checkDeferredIntent !== false) {
      return this._retrieve('payment_intent', a.clientSecret).then(function (r) {
        var pi = r.body;
        if (!r.body.error && (pi.amount !== Number(els._options.amount) || pi.currency !== String(els._options.currency).toLowerCase())) {
          var msg = 'confirmPayment: the PaymentIntent (' + pi.amount + ' ' + pi.currency + ') does not match the amount and currency passed to stripe.elements() (' +
            els._options.amount + ' ' + els._options.currency + ').';
          reportIntegrationError(msg);
          throw integrationError(msg);
        }
        return run();
      });
    }
    return run();
    function confirmExpress() {
      a.opts.beforeChallenge = function () { express._closeSheet('authenticating'); };
      return self._confirm('payment_intent', a.clientSecret, a.source, a.extra, a.opts).then(function (r) {
        if (r.paymentIntent) express._closeSheet('succeeded');
        else if (r.error) express._sheetStatus('Payment not completed: ' + (r.error.message || r.error.code) + ' (waiting for paymentFailed)');
        return r;
      });
    }
  };

  Stripe.prototype.confirmSetup = function (args) {
    var a = confirmArgs(args);
    if (a.error) return Promise.reject(a.error);
    return this._confirm('setup_intent', a.clientSecret, a.source, a.extra, a.opts);
  };

  function cardSource(data) {
    if (!data || data.payment_method === undefined) return null;
    if (typeof data.payment_method === 'string') return data.payment_method;
    return { element: data.payment_method.card, billingDetails: data.payment_method.billing_details };
  }

  /* confirmCardPayment(secret, {payment_method}, {handleActions}) — with no data on a PI awaiting
     action it runs the pending action (the wallet flow's third step, §8.2). */
  Stripe.prototype.confirmCardPayment = function (clientSecret, data, options) {
    var self = this;
    var handleActions = !(options && options.handleActions === false);
    var source = cardSource(data);
    var extra = {};
    if (data && data.setup_future_usage) extra.setup_future_usage = data.setup_future_usage;
    if (source === null) {
      return self.retrievePaymentIntent(clientSecret).then(function (r) {
        if (r.error) return r;
        if (r.paymentIntent.status === 'requires_action') return self.handleNextAction({ clientSecret: clientSecret });
        return self._confirm('payment_intent', clientSecret, null, extra, { redirect: 'if_required', handleActions: handleActions });
      });
    }
    return self._confirm('payment_intent', clientSecret, source, extra, { redirect: 'if_required', handleActions: handleActions });
  };

  Stripe.prototype.confirmCardSetup = function (clientSecret, data) {
    return this._confirm('setup_intent', clientSecret, cardSource(data), {}, { redirect: 'if_required' });
  };

  Stripe.prototype.handleNextAction = function (args) {
    var self = this;
    var clientSecret = args && args.clientSecret;
    var kind = clientSecret && clientSecret.indexOf('seti_') === 0 ? 'setup_intent' : 'payment_intent';
    var key = kind === 'setup_intent' ? 'setupIntent' : 'paymentIntent';
    return self._retrieve(kind, clientSecret).then(function (r) {
      if (r.body.error) return { error: r.body.error };
      if (r.body.status !== 'requires_action') {
        return { error: { type: 'invalid_request_error', code: 'unexpected_state', message: 'handleNextAction: the intent is not in requires_action (status ' + r.body.status + ').' } };
      }
      return self._challenge(r.body).then(function () {
        return self._retrieve(kind, clientSecret);
      }).then(function (r2) {
        if (r2.body.error) return { error: r2.body.error };
        var out = {};
        var failed = r2.body.status === 'requires_payment_method';
        if (failed) return { error: Object.assign({}, r2.body.last_payment_error || r2.body.last_setup_error, { [kind]: r2.body }) };
        out[key] = r2.body;
        return out;
      });
    });
  };

  Stripe.prototype.handleCardAction = function (clientSecret) {
    return this.handleNextAction({ clientSecret: clientSecret });
  };

  /* Deprecated Payment Request Button (§8.2): a scriptable stand-in for the wallet sheet. */
  Stripe.prototype.paymentRequest = function (options) {
    var self = this;
    var handlers = {};
    var pr = {
      _options: options,
      completed: null,
      canMakePayment: function () {
        var cfg = window.KassaStripeEmulator || {};
        return Promise.resolve(cfg.canMakePayment !== undefined ? cfg.canMakePayment : { applePay: false, googlePay: true, link: false });
      },
      on: function (ev, fn) { (handlers[ev] = handlers[ev] || []).push(fn); return pr; },
      update: function (o) { Object.assign(pr._options, o); },
      isShowing: function () { return false; },
      abort: function () {},
      show: function () {
        self._createCardPaymentMethod('wallet').then(function (r) {
          // §8.2: complete() must be called within 30 s; the double says so loudly if it is not.
          var timer = setTimeout(function () { reportIntegrationError('paymentRequest: ev.complete() was not called within 30 seconds'); pr.completed = 'timeout'; }, 30000);
          var ev = {
            paymentMethod: r.paymentMethod, walletName: 'googlePay', methodName: 'google_pay',
            complete: function (status) { clearTimeout(timer); pr.completed = status; },
          };
          (handlers.paymentmethod || []).forEach(function (fn) { fn(ev); });
        });
      },
    };
    return pr;
  };

  /* ---------- Elements ---------- */

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options;
    this._elements = {};
    this._submitted = false;
  }

  Elements.prototype.create = function (type, options) {
    if (type === 'paymentRequestButton') throw integrationError('paymentRequestButton is removed from Stripe.js as of endive; use expressCheckout.');
    if (['payment', 'card', 'expressCheckout'].indexOf(type) === -1) throw integrationError('The emulator does not model the "' + type + '" element.');
    var el = new Element(this, type, options || {});
    this._elements[type] = el;
    return el;
  };

  Elements.prototype.getElement = function (type) {
    return this._elements[type] || null;
  };

  Elements.prototype.update = function (options) {
    Object.assign(this._options, options || {});
    return Promise.resolve();
  };

  Elements.prototype.fetchUpdates = function () {
    return Promise.resolve({});
  };

  Elements.prototype._cardSource = function () {
    if (this._expressActive) return this._elements.expressCheckout;
    return this._elements.payment || this._elements.card || null;
  };

  /* Validates the form (deferred-intent flow requires it before confirmPayment). */
  Elements.prototype.submit = function () {
    var source = this._cardSource();
    this._submitted = true;
    if (source && source._type === 'expressCheckout') {
      if (!source._walletPm) {
        this._submitted = false;
        return Promise.resolve({ error: validationError('incomplete', 'The wallet payment has not been approved yet.') });
      }
      return Promise.resolve({ selectedPaymentMethod: source._walletType });
    }
    if (source && source._type !== 'expressCheckout') {
      var card = source._readCard();
      if (card.error) {
        this._submitted = false;
        source._showError(card.error.message);
        return Promise.resolve({ error: card.error });
      }
    }
    return Promise.resolve({ selectedPaymentMethod: 'card' });
  };

  function Element(group, type, options) {
    this._group = group;
    this._type = type;
    this._options = options;
    this._handlers = {};
    this._root = null;
  }

  Element.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  Element.prototype.once = function (event, handler) {
    var self = this;
    function wrapped(e) { self.off(event, wrapped); handler(e); }
    return this.on(event, wrapped);
  };
  Element.prototype.off = function (event, handler) {
    var list = this._handlers[event] || [];
    this._handlers[event] = handler ? list.filter(function (h) { return h !== handler; }) : [];
    return this;
  };
  Element.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (h) { h(payload); });
  };

  Element.prototype.mount = function (target) {
    var node = typeof target === 'string' ? document.querySelector(target) : target;
    if (!node) throw integrationError('mount(): no element matches ' + target);
    if (this._root) this.unmount();
    var self = this;
    if (this._type === 'expressCheckout') {
      this._root = document.createElement('div');
      this._root.className = 'kassa-express-checkout';
      node.appendChild(this._root);
      this._availability().then(function (available) {
        if (!self._root) return;
        self._renderExpressButtons(available);
        var any = Object.keys(available).some(function (k) { return available[k]; });
        // §8.3: availablePaymentMethods is undefined when no wallet can be shown.
        self._emit('ready', { elementType: self._type, availablePaymentMethods: any ? available : undefined });
      });
      return;
    }
    this._root = this._renderCard();
    node.appendChild(this._root);
    setTimeout(function () { self._emit('ready', { elementType: self._type }); }, 0);
  };

  Element.prototype.unmount = function () {
    if (this._sheet) this._closeSheet('canceled');
    if (this._root) this._root.remove();
    this._root = null;
  };
  Element.prototype.destroy = function () {
    this.unmount();
    delete this._group._elements[this._type];
  };
  Element.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Element.prototype.focus = function () { var i = this._root && this._root.querySelector('input'); if (i) i.focus(); };
  Element.prototype.blur = function () { if (document.activeElement) document.activeElement.blur(); };
  Element.prototype.clear = function () {
    if (!this._root) return;
    Array.prototype.forEach.call(this._root.querySelectorAll('input'), function (i) { i.value = ''; });
  };

  var uid = 0;
  /* DOM nodes styled through CSSOM (allowed under a strict CSP), not markup with style attributes. */
  function field(label, id, name, placeholder, autocomplete) {
    var wrap = document.createElement('label');
    wrap.style.cssText = 'display:block;margin:.3rem 0';
    wrap.appendChild(document.createTextNode(label + ' '));
    var input = document.createElement('input');
    input.id = id;
    input.name = name;
    input.placeholder = placeholder;
    input.autocomplete = autocomplete;
    input.setAttribute('inputmode', 'numeric');
    wrap.appendChild(input);
    return wrap;
  }

  Element.prototype._renderCard = function () {
    var n = uid++;
    var sfx = n === 0 ? '' : '-' + n; // first element gets the documented ids
    var root = document.createElement('div');
    root.className = 'kassa-card-form';
    root.setAttribute('data-element-type', this._type);
    root.appendChild(field('Card number', 'kassa-card-number' + sfx, 'cardnumber', '1234 1234 1234 1234', 'cc-number'));
    root.appendChild(field('Expiry', 'kassa-card-expiry' + sfx, 'exp-date', 'MM / YY', 'cc-exp'));
    root.appendChild(field('CVC', 'kassa-card-cvc' + sfx, 'cvc', 'CVC', 'cc-csc'));
    root.appendChild(field('Postal code', 'kassa-card-postal' + sfx, 'postal', '12345', 'postal-code'));
    var errorBox = document.createElement('div');
    errorBox.className = 'kassa-card-error';
    errorBox.id = 'kassa-card-error' + sfx;
    errorBox.setAttribute('role', 'alert');
    errorBox.style.cssText = 'color:#b00';
    root.appendChild(errorBox);
    var self = this;
    root.addEventListener('input', function () {
      var card = self._readCard();
      var number = card.number || '';
      var event = { elementType: self._type, empty: number === '' && !card.rawExpiry && !card.cvc, complete: !card.error, brand: brandOf(number) };
      if (self._type === 'payment') event.value = { type: 'card' };
      else event.value = { postalCode: card.postalCode || '' };
      if (card.error && number.length >= 16) event.error = card.error;
      self._showError('');
      self._emit('change', event);
    });
    root.addEventListener('focusin', function () { self._emit('focus', { elementType: self._type }); });
    root.addEventListener('focusout', function () { self._emit('blur', { elementType: self._type }); });
    return root;
  };

  Element.prototype._showError = function (message) {
    var box = this._root && this._root.querySelector('.kassa-card-error');
    if (box) box.textContent = message || '';
  };

  /* Reads and checks the inputs like Stripe.js' client-side validation. */
  Element.prototype._readCard = function () {
    var q = function (root, name) { var i = root && root.querySelector('input[name="' + name + '"]'); return i ? i.value.trim() : ''; };
    var root = this._root;
    var number = q(root, 'cardnumber').replace(/[\s-]/g, '');
    var rawExpiry = q(root, 'exp-date');
    var cvc = q(root, 'cvc');
    var postalCode = q(root, 'postal');
    var out = { number: number, rawExpiry: rawExpiry, cvc: cvc, postalCode: postalCode };
    if (!number) { out.error = validationError('incomplete_number', 'Your card number is incomplete.'); return out; }
    if (!/^\d{12,19}$/.test(number) || !luhn(number)) { out.error = validationError('invalid_number', 'Your card number is invalid.'); return out; }
    var m = /^(\d{1,2})\s*\/?\s*(\d{2}|\d{4})$/.exec(rawExpiry.replace(/\s+/g, ' '));
    if (!m) { out.error = validationError('incomplete_expiry', "Your card's expiration date is incomplete."); return out; }
    out.expMonth = Number(m[1]);
    out.expYear = m[2].length === 2 ? 2000 + Number(m[2]) : Number(m[2]);
    var now = new Date();
    if (out.expMonth < 1 || out.expMonth > 12) { out.error = validationError('invalid_expiry_month', "Your card's expiration month is invalid."); return out; }
    if (out.expYear < now.getFullYear() || (out.expYear === now.getFullYear() && out.expMonth < now.getMonth() + 1)) {
      out.error = validationError('invalid_expiry_year_past', "Your card's expiration year is in the past."); return out;
    }
    if (!/^\d{3,4}$/.test(cvc)) { out.error = validationError('incomplete_cvc', "Your card's security code is incomplete."); return out; }
    return out;
  };

  /* @express-checkout: express-checkout.client.js is inserted here when served (same closure). */

  window.Stripe = Stripe;
  window.Stripe.version = 3;
  window.Stripe.kassaEmulator = true;
  window.Stripe.kassaErrors = kassaErrors;
})();
