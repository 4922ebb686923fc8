/*
 * Kassa Stripe emulator, Stripe.js double: the Express Checkout Element (§8.3) and its test
 * wallet sheet. Not a standalone script: stripe-js.ts inserts it into stripe-js.client.js at the
 * @express-checkout marker, inside the same closure (Element, integrationError,
 * reportIntegrationError, validationError and formatAmount come from there).
 */
  /* ---------- Express Checkout (§8.3) ---------- */

  var EXPRESS_TYPES = { applePay: 'apple_pay', googlePay: 'google_pay', link: 'link', paypal: 'paypal', amazonPay: 'amazon_pay' };
  var WALLET_LABELS = { apple_pay: 'Apple Pay', google_pay: 'Google Pay', link: 'Link', paypal: 'PayPal', amazon_pay: 'Amazon Pay' };

  /*
   * Which wallets "this browser" has: the page's window.KassaStripeEmulator.availablePaymentMethods
   * wins; otherwise the emulator's wallet configuration (POST /_emulator/wallet_config, per account,
   * optionally only on registered payment method domains). paymentMethods: {applePay: 'never'} hides one.
   */
  Element.prototype._availability = function () {
    var self = this;
    var cfg = window.KassaStripeEmulator || {};
    var fromServer = cfg.availablePaymentMethods !== undefined
      ? Promise.resolve(cfg.availablePaymentMethods || {})
      : this._group._stripe._request('GET', '/_emulator/wallet', { host: window.location.hostname }).then(function (r) {
        if (r.body.error) { reportIntegrationError('expressCheckout: ' + r.body.error.message); return {}; }
        self._payer = r.body.payer;
        return r.body.available_payment_methods;
      });
    return fromServer.then(function (available) {
      var out = {};
      var wanted = self._options.paymentMethods || {};
      Object.keys(EXPRESS_TYPES).forEach(function (k) { out[k] = !!available[k] && wanted[k] !== 'never'; });
      return out;
    });
  };

  /* One button per available wallet; the first also carries the documented #kassa-express-checkout-button id. */
  Element.prototype._renderExpressButtons = function (available) {
    var self = this;
    var first = true;
    Object.keys(EXPRESS_TYPES).forEach(function (k) {
      if (!available[k]) return;
      var type = EXPRESS_TYPES[k];
      var button = document.createElement('button');
      button.type = 'button';
      button.id = first ? 'kassa-express-checkout-button' : 'kassa-express-' + type;
      button.className = 'kassa-express-button';
      button.setAttribute('data-wallet', type);
      button.textContent = 'Pay with ' + WALLET_LABELS[type] + ' (test wallet)';
      button.style.cssText = 'display:block;width:100%;margin:.2rem 0;padding:.6rem;background:#000;color:#fff;border:0;border-radius:4px;font-size:1rem';
      button.addEventListener('click', function () { self._onWalletClick(type); });
      self._root.appendChild(button);
      first = false;
    });
  };

  /*
   * §8.3: a `click` handler must call event.resolve() (or reject()) within 1 second, or the sheet
   * cannot open: the double reports the mistake, emits `cancel`, and a late resolve() throws.
   */
  Element.prototype._onWalletClick = function (type) {
    var self = this;
    if (this._sheet) return;
    var handled = (this._handlers.click || []).length > 0;
    if (!handled) { this._openSheet(type, {}); return; }
    var settled = false;
    var timedOut = false;
    var timer = setTimeout(function () {
      if (settled) return;
      settled = true;
      timedOut = true;
      reportIntegrationError('expressCheckout: the click event was not resolved within 1 second, so the payment sheet was not shown. Call event.resolve() synchronously (or within 1 s) in the click handler.');
      self._emit('cancel', { elementType: 'expressCheckout' });
    }, 1000);
    this._emit('click', {
      elementType: 'expressCheckout',
      expressPaymentType: type,
      resolve: function (details) {
        if (timedOut) {
          var msg = 'expressCheckout: event.resolve() was called after the 1 second limit of the click event.';
          reportIntegrationError(msg);
          throw integrationError(msg);
        }
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        self._openSheet(type, details || {});
      },
      reject: function () {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
      },
    });
  };

  /* The simulated wallet sheet: amount in the currency's exponent, merchant name, Pay and Cancel. */
  Element.prototype._openSheet = function (type, details) {
    var self = this;
    var group = this._group;
    this._walletType = type;
    var amountPromise = group._options.clientSecret
      ? group._stripe._retrieve('payment_intent', group._options.clientSecret).then(function (r) { return r.body.error ? {} : { amount: r.body.amount, currency: r.body.currency }; })
      : Promise.resolve({ amount: group._options.amount, currency: group._options.currency });
    var sheet = document.createElement('div');
    sheet.id = 'kassa-wallet-sheet';
    sheet.setAttribute('role', 'dialog');
    sheet.setAttribute('data-wallet', type);
    sheet.setAttribute('data-state', 'open');
    sheet.style.cssText = 'position:fixed;left:0;right:0;bottom:0;background:#fff;border-top:2px solid #000;padding:1rem;z-index:2147483646;font-family:system-ui,sans-serif';
    var title = document.createElement('strong');
    title.textContent = WALLET_LABELS[type] + ' (Kassa test wallet; no real money)';
    sheet.appendChild(title);
    var merchant = document.createElement('div');
    merchant.id = 'kassa-wallet-merchant';
    merchant.textContent = (this._options.business && this._options.business.name) || (group._options.business && group._options.business.name) || '';
    sheet.appendChild(merchant);
    var amount = document.createElement('div');
    amount.id = 'kassa-wallet-amount';
    sheet.appendChild(amount);
    if (details.lineItems && details.lineItems.length) {
      var items = document.createElement('ul');
      items.id = 'kassa-wallet-line-items';
      details.lineItems.forEach(function (li) {
        var item = document.createElement('li');
        item.textContent = li.name + ': ' + formatAmount(li.amount, group._options.currency);
        items.appendChild(item);
      });
      sheet.appendChild(items);
    }
    var status = document.createElement('div');
    status.id = 'kassa-wallet-status';
    status.setAttribute('role', 'status');
    sheet.appendChild(status);
    var approve = document.createElement('button');
    approve.type = 'button';
    approve.id = 'kassa-wallet-approve';
    approve.textContent = 'Pay';
    var cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.id = 'kassa-wallet-cancel';
    cancel.textContent = 'Cancel';
    sheet.appendChild(approve);
    sheet.appendChild(cancel);
    document.body.appendChild(sheet);
    this._sheet = sheet;
    amountPromise.then(function (a) {
      amount.textContent = a.amount !== undefined ? formatAmount(a.amount, a.currency) : '';
      amount.setAttribute('data-amount', a.amount !== undefined ? String(a.amount) : '');
      amount.setAttribute('data-currency', a.currency || '');
    });
    cancel.addEventListener('click', function () {
      if (sheet.getAttribute('data-state') === 'processing') return;
      self._closeSheet('canceled');
      group._expressActive = false;
      self._walletPm = null;
      self._emit('cancel', { elementType: 'expressCheckout' });
    });
    approve.addEventListener('click', function () {
      if (sheet.getAttribute('data-state') !== 'open') return;
      sheet.setAttribute('data-state', 'processing');
      approve.disabled = true;
      self._sheetStatus('Processing…');
      var payer = self._payer || { name: 'Test Wallet', email: 'wallet@example.com' };
      group._stripe._request('POST', '/_emulator/wallet/payment_method', { wallet: type, billing_details: payer }).then(function (r) {
        if (r.body.error) {
          sheet.setAttribute('data-state', 'open');
          approve.disabled = false;
          self._sheetStatus(r.body.error.message);
          return;
        }
        self._walletPm = r.body;
        group._expressActive = true;
        self._emit('confirm', {
          elementType: 'expressCheckout',
          expressPaymentType: type,
          billingDetails: { name: payer.name, email: payer.email, phone: null, address: null },
          paymentFailed: function (payload) { self._paymentFailed(payload || {}); },
        });
      });
    });
  };

  Element.prototype._sheetStatus = function (text) {
    var box = document.getElementById('kassa-wallet-status');
    if (this._sheet && box) box.textContent = text;
  };

  Element.prototype._closeSheet = function (state) {
    if (!this._sheet) return;
    this._sheet.setAttribute('data-state', state);
    this._sheet.remove();
    this._sheet = null;
    if (this._root) this._root.setAttribute('data-last-sheet', state);
  };

  /* §8.3 confirm event's paymentFailed({reason, message}): the sheet shows the failure and closes. */
  Element.prototype._paymentFailed = function (payload) {
    var reason = payload.reason || 'fail';
    this._failures = (this._failures || []).concat([{ reason: reason, message: payload.message || null }]);
    this._group._expressActive = false;
    this._walletPm = null;
    this._closeSheet('failed');
    if (!this._root) return;
    var note = this._root.querySelector('.kassa-wallet-failed') || document.createElement('div');
    note.className = 'kassa-wallet-failed';
    note.id = 'kassa-wallet-failed';
    note.setAttribute('role', 'alert');
    note.setAttribute('data-reason', reason);
    note.textContent = 'Wallet payment failed (' + reason + ')' + (payload.message ? ': ' + payload.message : '');
    this._root.appendChild(note);
  };

