import Hummingbird

/// The frame of every page the sandbox shows a person: the card form, the 3-D Secure page and the result.
/// No X-Frame-Options is sent, because the widget shows these pages in an iframe from the merchant's origin.
enum HTMLPage {
    static func response(title: String, body: String, status: HTTPResponse.Status = .ok) -> Response {
        let html = """
        <!DOCTYPE html>
        <html lang="ru">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title.htmlEscaped)</title>
        <style>\(style)</style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>
        """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html))
        )
    }

    /// A hidden form field.
    static func hiddenInput(name: String, value: String) -> String {
        "<input type=\"hidden\" name=\"\(name.htmlEscaped)\" value=\"\(value.htmlEscaped)\">"
    }

    private static let style = """
    body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
    main{max-width:420px;margin:32px auto;background:#fff;border-radius:12px;padding:24px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
    h1{font-size:20px;margin:0 0 8px}
    .note{color:#6b7280;font-size:13px;margin:0 0 16px}
    .amount{font-size:28px;font-weight:600;margin:8px 0}
    label{display:block;font-size:13px;color:#4b5563;margin:12px 0 4px}
    input{width:100%;box-sizing:border-box;padding:10px;font-size:16px;border:1px solid #d1d5db;border-radius:8px}
    .row{display:flex;gap:12px}.row>div{flex:1}
    button{width:100%;margin-top:20px;padding:12px;font-size:16px;border:0;border-radius:8px;background:#2563eb;color:#fff;cursor:pointer}
    button.secondary{background:#e5e7eb;color:#1d2330;margin-top:8px}
    .error{color:#b91c1c;margin:12px 0 0}
    .success{color:#15803d}
    .failure{color:#b91c1c}
    code{word-break:break-all}
    """
}
