/// `/widget.js`: the legacy CloudPayments widget API (`new cp.CloudPayments().pay(kind, options, callbacks)`),
/// showing the sandbox's card form in a full-screen overlay and turning its result messages into the callbacks.
///
/// As in the real widget a decline does not end the session: the form shows the reason and "Try again"
/// (`#sandbox-retry`), and the payer may pay with another card for the same invoice. The session ends on a success,
/// which closes the overlay and calls `onSuccess`, or when the payer closes it (`#sandbox-widget-close`), which calls
/// `onFail` with the last decline's message ("User has cancelled" if nothing was tried). `onComplete` follows each
/// transaction result as it arrives, a decline included, as CloudPayments documents it ("called as soon as the widget
/// gets the transaction result from the API"); a session closed before any result gets one `onComplete` at the end.
enum WidgetScript {
    static let source = #"""
    (function () {
      'use strict';
      // The form lives on the sandbox, wherever this script was loaded from.
      var script = document.currentScript;
      var sandboxOrigin = new URL(script ? script.src : '/', window.location.href).origin;
      // `skin` is accepted and ignored: the sandbox has a single look.
      var optionNames = ['publicId', 'description', 'amount', 'currency', 'accountId', 'invoiceId', 'email'];

      function formURL(kind, options) {
        var query = new URLSearchParams();
        query.set('kind', kind === 'auth' ? 'auth' : 'charge');
        optionNames.forEach(function (name) {
          if (options[name] !== undefined && options[name] !== null) { query.set(name, String(options[name])); }
        });
        if (options.data !== undefined && options.data !== null) {
          query.set('data', typeof options.data === 'string' ? options.data : JSON.stringify(options.data));
        }
        // Keeping the card for later payments; the form also reads `data.CloudPayments.recurrent`, which asks the same.
        if (options.saveCard === true) { query.set('saveCard', 'true'); }
        return sandboxOrigin + '/form?' + query.toString();
      }

      function CloudPayments() {}

      CloudPayments.prototype.pay = function (kind, options, callbacks) {
        options = options || {};
        callbacks = callbacks || {};
        var overlay = document.createElement('div');
        overlay.id = 'sandbox-widget-overlay';
        overlay.style.cssText = 'position:fixed;inset:0;z-index:2147483647;background:rgba(15,23,42,.6);' +
          'display:flex;align-items:center;justify-content:center';
        var frame = document.createElement('iframe');
        frame.id = 'sandbox-widget-frame';
        frame.src = formURL(kind, options);
        frame.style.cssText = 'width:min(480px,100%);height:min(640px,100%);border:0;border-radius:12px;background:#fff';
        var close = document.createElement('button');
        close.id = 'sandbox-widget-close';
        close.type = 'button';
        close.textContent = '\u00d7';
        close.setAttribute('aria-label', 'Закрыть / Close');
        close.style.cssText = 'position:absolute;top:12px;right:16px;font-size:32px;background:none;border:0;color:#fff;cursor:pointer';
        overlay.appendChild(frame);
        overlay.appendChild(close);

        function call(name, args) {
          if (typeof callbacks[name] === 'function') { callbacks[name].apply(null, args); }
        }

        var finished = false;
        var lastFailure = null;
        function finish(result) {
          if (finished) { return; }
          finished = true;
          window.removeEventListener('message', onMessage);
          overlay.remove();
          if (result.success) {
            call('onSuccess', [options]);
          } else {
            call('onFail', [result.message, options]);
          }
        }
        function onMessage(event) {
          var data = event.data;
          if (finished || event.source !== frame.contentWindow || !data || data.type !== 'sandbox-payment') { return; }
          var result = { success: data.success, code: data.reasonCode, message: data.message, transactionId: data.transactionId };
          call('onComplete', [result, options]);
          if (result.success) {
            finish(result);
          } else {
            // The overlay stays: the form now offers "Try again", and only closing the widget makes this a failure.
            lastFailure = result;
          }
        }
        window.addEventListener('message', onMessage);
        close.addEventListener('click', function () {
          if (lastFailure) {
            finish(lastFailure);
            return;
          }
          var cancelled = { success: false, code: null, message: 'User has cancelled', transactionId: null };
          finish(cancelled);
          call('onComplete', [cancelled, options]);
        });
        document.body.appendChild(overlay);
      };

      window.cp = { CloudPayments: CloudPayments };
    })();
    """#
}
