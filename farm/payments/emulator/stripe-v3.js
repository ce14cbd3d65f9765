/*
 * The Stripe.js stand-in served by farm's Stripe emulator at <api_base>/js.stripe.com/v3/.
 *
 * Based on localstripe's localstripe-v3.js (Copyright 2017 Adrien Vergé, GPL-3.0-or-later):
 * its base-URL detection, dialog and card Element are kept; the Stripe object is rewritten so
 * that createPaymentMethod makes real pm_ ids and handleNextAction follows the next action
 * the way Stripe.js does (redirect_to_url and alipay_handle_redirect navigate, use_stripe_sdk
 * and wechat_pay_display_qr_code open a dialog).
 */
// First, get the URL base from which this script is pulled:
const LOCALSTRIPE_BASE_API = (function () {
  const src = document.currentScript.src;
  if (src.match(/\/js\.stripe\.com\/v3\/$/)) {
    return src.replace(/\/js\.stripe\.com\/v3\/$/, '');
  } else {
    return src.match(/https?:\/\/[^\/]*/)[0];
  }
})();


function openModal(text, confirmText, cancelText) {
  return new Promise(resolve => {
    const box = document.createElement('div'),
          p = document.createElement('p'),
          confirm = document.createElement('button'),
          cancel = document.createElement('button');
    box.appendChild(p);
    box.appendChild(confirm);
    box.appendChild(cancel);
    Object.assign(box.style, {
      position: 'absolute',
      width: '300px',
      top: '50%',
      left: '50%',
      margin: '-35px 0 0 -150px',
      padding: '10px 20px',
      border: '3px solid #ccc',
      background: '#fff',
      'text-align': 'center',
    });
    p.innerText = text;
    confirm.innerText = confirmText;
    cancel.innerText = cancelText;
    document.body.appendChild(box);
    confirm.addEventListener('click', () => {
      document.body.removeChild(box);
      resolve(true);
    });
    cancel.addEventListener('click', () => {
      document.body.removeChild(box);
      resolve(false);
    });
    confirm.focus();
  });
}

class Element {
  constructor(stripeElements) {
    // Element needs a reference to the object that created it, in order to
    // thoroughly destroy() itself.
    this._stripeElements = stripeElements;
    this.listeners = {};
    this._domChildren = [];
  }

  mount(domElement) {
    if (typeof domElement === 'string') {
      domElement = document.querySelector(domElement);
    } else if (!(domElement instanceof window.Element)) {
      throw new Error('Invalid DOM element. Make sure to call mount() with ' +
                      'a valid DOM element or selector.');
    }

    if (this._stripeElements._cardElement !== this) {
      throw new Error('This Element has already been destroyed. Please ' +
                      'create a new one.');
    }

    if (this._domChildren.length) {
      if (domElement === this._domChildren[0].parentElement) {
        return;
      }
      throw new Error('This Element is already mounted. Use `unmount()` to ' +
                      'unmount the Element before re-mounting.');
    }

    const labelSpan = document.createElement('span');
    labelSpan.textContent = 'localstripe: ';
    this._domChildren.push(labelSpan);

    this._inputs = {
      number: null,
      exp_month: null,
      exp_year: null,
      cvc: null,
      postal_code: null,
    };

    const changed = event => {
      this.value = {
        card: {
          number: this._inputs.number.value,
          exp_month: this._inputs.exp_month.value,
          exp_year: '20' + this._inputs.exp_year.value,
          cvc: this._inputs.cvc.value,
        },
        postal_code: this._inputs.postal_code.value,
      }

      if (event.target === this._inputs.number &&
          this.value.card.number.length >= 16) {
        this._inputs.exp_month.focus();
      } else if (event.target === this._inputs.exp_month &&
                 parseInt(this.value.card.exp_month) > 1) {
        this._inputs.exp_year.focus();
      } else if (event.target === this._inputs.exp_year &&
                 this.value.card.exp_year.length >= 4) {
        this._inputs.cvc.focus();
      } else if (event.target === this._inputs.cvc &&
                 this.value.card.cvc.length >= 3) {
        this._inputs.postal_code.focus();
      }

      (this.listeners['change'] || []).forEach(handler => handler());
    };

    Object.keys(this._inputs).forEach(field => {
      this._inputs[field] = document.createElement('input');
      this._inputs[field].setAttribute('type', 'text');
      this._inputs[field].setAttribute('placeholder', field);
      this._inputs[field].setAttribute('size', field === 'number' ? 16 :
                                       field === 'postal_code' ? 5 :
                                       field === 'cvc' ? 3 : 2);
      this._inputs[field].oninput = changed;
      this._domChildren.push(this._inputs[field]);
    });

    this._domChildren.forEach((child) => domElement.appendChild(child));
  }

  unmount() {
    while (this._domChildren.length) {
      this._domChildren.pop().remove();
    }
    this._inputs = undefined;
  }

  destroy() {
    this.unmount();
    if (this._stripeElements._cardElement === this) {
      this._stripeElements._cardElement = null;
    }
  }

  on(event, handler) {
    this.listeners[event] = this.listeners[event] || [];
    this.listeners[event].push(handler);
  }
}


function formBody(fields) {
  const body = new URLSearchParams();
  Object.keys(fields).forEach(name => body.append(name, fields[name]));
  return body;
}

async function answer(response, name) {
  const res = await response.json().catch(() => ({}));
  if (response.status !== 200 || res.error) {
    return {error: res.error || {message: 'Request failed (' + response.status + ')'}};
  }
  return {[name]: res};
}

function cardFields(element, prefix) {
  const fields = {};
  Object.keys(element.value.card).forEach(field => {
    fields[prefix + '[' + field + ']'] = element.value.card[field];
  });
  return fields;
}

function intentId(clientSecret) {
  const found = /^(pi_\w+?)_secret_/.exec(clientSecret || '');
  if (!found) throw new Error('Invalid clientSecret');
  return found[1];
}

Stripe = (apiKey, options) => {
  // Kept for tests, which cannot see inside Stripe.js: the options a page passed (locale).
  Stripe.lastOptions = options || {};
  const stripe = {
    elements: () => ({
      _cardElement: null,
      create: function (type, options) {
        if (this._cardElement) {
          throw new Error('Can only create one Element of type card');
        }
        this._cardElement = new Element(this);
        return this._cardElement;
      },
      getElement: function (type) {
        return this._cardElement;
      },
    }),

    createToken: async (element) => {
      const fields = {...cardFields(element, 'card'), key: apiKey};
      const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/tokens`, {
        method: 'POST', body: formBody(fields),
      });
      return answer(response, 'token');
    },

    // createPaymentMethod({type: 'card', card: element, billing_details}) or the older
    // createPaymentMethod('card', element, {billing_details}).
    createPaymentMethod: async (data, element, extra) => {
      if (typeof data === 'string') {
        data = {type: data, card: element, ...(extra || {})};
      }
      if (!data || data.type !== 'card' || !(data.card instanceof Element)) {
        return {error: {type: 'validation_error',
                        message: 'The emulator makes card PaymentMethods from a card Element.'}};
      }
      if (!data.card.value) {
        return {error: {type: 'validation_error', code: 'incomplete_number',
                        message: 'Your card number is incomplete.'}};
      }
      const fields = {type: 'card', key: apiKey, ...cardFields(data.card, 'card')};
      const address = (data.billing_details || {}).address || {};
      if (data.card.value.postal_code && !address.postal_code) {
        fields['billing_details[address][postal_code]'] = data.card.value.postal_code;
      }
      const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_methods`, {
        method: 'POST', body: formBody(fields),
      });
      return answer(response, 'paymentMethod');
    },

    retrievePaymentIntent: async (clientSecret) => {
      const query = new URLSearchParams({client_secret: clientSecret, key: apiKey});
      const response = await fetch(
        `${LOCALSTRIPE_BASE_API}/v1/payment_intents/${intentId(clientSecret)}?${query}`);
      return answer(response, 'paymentIntent');
    },

    // Stripe.js' handleNextAction for an intent confirmed on the server.
    handleNextAction: async ({clientSecret}) => {
      const got = await stripe.retrievePaymentIntent(clientSecret);
      if (got.error) return got;
      const intent = got.paymentIntent;
      const action = intent.next_action;
      if (intent.status !== 'requires_action' || !action) return {paymentIntent: intent};
      if (action.type === 'redirect_to_url' || action.type === 'alipay_handle_redirect') {
        window.location.assign(action[action.type].url);
        return new Promise(() => {});  // the page goes away
      }
      let success;
      if (action.type === 'use_stripe_sdk') {
        success = await openModal('3D Secure\nDo you want to confirm or cancel?',
                                  'Complete authentication', 'Fail authentication');
      } else if (action.type === 'wechat_pay_display_qr_code') {
        success = await openModal('WeChat Pay (test)\nScan the QR code, or choose:',
                                  'Authorize test payment', 'Fail test payment');
      } else {
        return {error: {type: 'invalid_request_error',
                        message: `The emulator cannot handle ${action.type}.`}};
      }
      const url = `${LOCALSTRIPE_BASE_API}/v1/payment_intents/${intent.id}/_authenticate`;
      const response = await fetch(url, {
        method: 'POST',
        body: formBody({key: apiKey, client_secret: clientSecret, success: String(success)}),
      });
      const done = await answer(response, 'paymentIntent');
      if (done.error) return done;
      if (done.paymentIntent.status === 'requires_payment_method') {
        const last = done.paymentIntent.last_payment_error || {};
        return {error: {...last, payment_intent: done.paymentIntent}};
      }
      return done;
    },

    // The older name for the same step; kept for pages not yet on handleNextAction.
    confirmCardPayment: async (clientSecret) => stripe.handleNextAction({clientSecret}),
  };
  return stripe;
};
