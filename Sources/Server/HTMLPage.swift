/// The frame of the server's pages: UTF-8, a viewport for phones, the page's own style and body.
enum HTMLPage {
    static func document(title: String, style: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title)</title>
        <style>
        \(style)</style>
        </head>
        <body>
        \(body)</body>
        </html>
        """
    }
}
