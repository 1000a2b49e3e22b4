import Foundation
import Testing

/// Runs the real `/widget.js` in Node.js against a minimal stand-in for the browser page, feeding it the messages
/// the real result pages post, so the callback order is checked without a browser. Skipped where Node.js is missing.
@Suite("Widget script callbacks")
struct WidgetScriptTests {
    static let node: String? = ProcessInfo.processInfo.environment["PATH"]?
        .split(separator: ":")
        .map { "\($0)/node" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    private let options = [
        ("publicId", SandboxHarness.publicID), ("amount", "299"), ("currency", "RUB"), ("invoiceId", "inv-w"), ("kind", "charge"),
    ]

    @Test("a decline keeps the widget open; a retry that succeeds ends in onSuccess; closing after a decline is onFail",
          .enabled(if: WidgetScriptTests.node != nil, "needs Node.js"))
    func declineRetryAndClose() async throws {
        try await SandboxHarness.run { sandbox in
            let script = try await sandbox.send("/widget.js", method: .GET, credentials: .none).body
            let decline = try await resultMessage(sandbox, card: "4000 0566 5566 5556")
            let success = try await resultMessage(sandbox, card: "4000 0000 0000 3055")
            let declineID = try #require(decline.firstMatch(of: /"transactionId":(\d+)/)?.1)
            let successID = try #require(success.firstMatch(of: /"transactionId":(\d+)/)?.1)

            let run = try runNode(environment: [
                "WIDGET_SOURCE": script, "DECLINE_MESSAGE": decline, "SUCCESS_MESSAGE": success, "SANDBOX": sandbox.baseURL,
            ])
            let declined = "onComplete:false:5051:\(declineID)"
            let succeeded = "onComplete:true:0:\(successID)"
            #expect(run["retryAfterDecline"] == [declined, "open", succeeded, "onSuccess:inv-w", "closed", "closed"])
            #expect(run["closeAfterDecline"] == [declined, "open", "onFail:Недостаточно средств на карте:inv-w", "closed"])
            #expect(run["closeAtOnce"] == ["onFail:User has cancelled:inv-w", "onComplete:false:null:null", "closed"])
            let frames = try #require(run["frames"])
            #expect(frames.count == 3)
            #expect(frames[0].contains("saveCard=true") && frames[0].contains("invoiceId=inv-w"))
            #expect(!frames[1].contains("saveCard") && frames[1].contains("recurrent"))
            #expect(!frames[2].contains("saveCard"))
        }
    }

    /// The JSON a result page posts to the widget, after paying through the hosted form for real.
    private func resultMessage(_ sandbox: SandboxHarness, card: String) async throws -> String {
        let fields = options + [("cardNumber", card), ("cardExp", "12/40"), ("cardCvv", "123"), ("cardHolder", "IVAN PETROV")]
        let page = try await sandbox.send("/form", body: FormBody.encode(fields), contentType: "application/x-www-form-urlencoded", credentials: .none)
        return String(try #require(page.body.firstMatch(of: /window\.parent\.postMessage\((.*), '\*'\);/)?.1))
    }

    private func runNode(environment: [String: String]) throws -> [String: [String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.node))
        process.arguments = ["-e", Self.page]
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(errorText)")
        return try JSONDecoder().decode([String: [String]].self, from: data)
    }

    /// The stand-in page: just enough DOM for the widget, three widget sessions, and a log of what the merchant saw.
    private static let page = #"""
    const listeners = new Set();
    function element(tag) {
      return {
        tagName: tag, style: {}, children: [], handlers: {}, removed: false,
        contentWindow: tag === 'iframe' ? {} : undefined,
        appendChild(child) { this.children.push(child); },
        setAttribute() {},
        addEventListener(type, handler) { this.handlers[type] = handler; },
        remove() { this.removed = true; },
      };
    }
    const body = element('body');
    global.window = {
      location: { href: 'http://merchant.example/pay' },
      addEventListener(type, handler) { if (type === 'message') listeners.add(handler); },
      removeEventListener(type, handler) { listeners.delete(handler); },
    };
    global.document = { currentScript: { src: process.env.SANDBOX + '/widget.js' }, createElement: element, body };
    new Function(process.env.WIDGET_SOURCE)();

    const frames = [];
    function open(options) {
      const log = [];
      new window.cp.CloudPayments().pay('charge', options, {
        onSuccess: (o) => log.push('onSuccess:' + o.invoiceId),
        onFail: (reason, o) => log.push('onFail:' + reason + ':' + o.invoiceId),
        onComplete: (r) => log.push(['onComplete', r.success, r.code, r.transactionId].map((v) => v === null ? 'null' : String(v)).join(':')),
      });
      const overlay = body.children[body.children.length - 1];
      const frame = overlay.children.find((child) => child.tagName === 'iframe');
      const close = overlay.children.find((child) => child.tagName === 'button');
      frames.push(frame.src);
      return {
        log,
        post(data, source) { [...listeners].forEach((listener) => listener({ data, source: source || frame.contentWindow })); },
        state() { log.push(overlay.removed ? 'closed' : 'open'); },
        close() { close.handlers.click(); },
      };
    }
    const decline = JSON.parse(process.env.DECLINE_MESSAGE);
    const success = JSON.parse(process.env.SUCCESS_MESSAGE);
    const base = { publicId: 'pk', amount: 299, currency: 'RUB', invoiceId: 'inv-w' };

    const retry = open(Object.assign({ saveCard: true }, base));
    retry.post(decline); retry.state();
    retry.post(success); retry.state();
    retry.close(); retry.state();

    const giveUp = open(Object.assign({ data: { CloudPayments: { recurrent: { interval: 'Month', period: 1 } } } }, base));
    giveUp.post(decline);
    giveUp.post(success, {});  // from another window: not the sandbox's form, ignored
    giveUp.state();
    giveUp.close(); giveUp.state();

    const cancel = open(base);
    cancel.close(); cancel.state();

    console.log(JSON.stringify({ retryAfterDecline: retry.log, closeAfterDecline: giveUp.log, closeAtOnce: cancel.log, frames }));
    """#
}
