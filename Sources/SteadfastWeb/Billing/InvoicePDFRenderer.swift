import Foundation
import NIOPosix
import SteadfastCluster
import SteadfastConcurrency
import SteadfastDomain

/// Prints an HTML document to PDF with headless Chromium (`billing.pdf_renderer`), run as a child
/// process through the cluster's ``ProcessControl`` (no descriptor of ours inherited, reaped with
/// `waitpid`) and killed after `billing.pdf_timeout`. Each rendering gets its own temporary
/// directory (the page, a throw-away browser profile, the PDF), removed afterwards. The page
/// carries a Content-Security-Policy of `default-src 'none'`, so the browser loads nothing but
/// the file it is given. Why Chromium and not WeasyPrint: docs/billing.md, "Invoices as documents".
/// At most `billing.pdf_concurrency` renderings run at once on a node (an `AsyncSemaphore`,
/// SteadfastConcurrency: the page route and the mail delivery both take a permit first, the
/// others wait their turn, and a waiter whose request went away leaves the queue without ever
/// starting a browser); the time limit counts from the start of the browser, not from the wait.
struct InvoicePDFRenderer: Sendable {
    let executable: String
    let timeout: Duration
    let permits: AsyncSemaphore

    init(executable: String, timeout: Duration, concurrency: Int) {
        self.executable = executable
        self.timeout = timeout
        self.permits = AsyncSemaphore(permits: concurrency)
    }

    /// The renderer could not make a PDF (not installed, failed, or too slow): HTTP 503.
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// The PDF bytes of `html`, once a permit is free.
    func render(html: String) async throws -> Data {
        try await permits.withPermit {
            try Task.checkCancellation()  // a free permit is not refused to a cancelled task: no browser for it
            return try await renderNow(html: html)
        }
    }

    func renderNow(html: String) async throws -> Data {
        guard let program = Self.resolve(executable) else {
            throw Failed(description: "the PDF renderer '\(executable)' is not installed (billing.pdf_renderer)")
        }
        // The files are written, read and removed on NIO's thread pool: a request runs on its
        // connection's event loop, which must not wait on the disk (docs/architecture.md,
        // "Request path"). Removing the browser's profile alone can take tens of milliseconds.
        let pool = NIOThreadPool.singleton
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-pdf-\(UUID().uuidString.lowercased())")
        let page = directory.appendingPathComponent("invoice.html")
        let output = directory.appendingPathComponent("invoice.pdf")
        return try await withClosing({ _ = try? await pool.runIfActive { try FileManager.default.removeItem(at: directory) } }) {
            try await pool.runIfActive {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try Data(html.utf8).write(to: page)
            }
            let command = [
                program, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync", "--user-data-dir=\(directory.path)/profile",
                "--no-pdf-header-footer", "--print-to-pdf=\(output.path)", page.absoluteString,
            ]
            let environment = ["HOME": directory.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8"]
            let status: Int32
            do {
                status = try await ProcessControl.run(command, environment: environment, timeout: timeout).status
            } catch {
                throw Failed(description: "the PDF renderer did not finish within \(DurationText.format(timeout))")
            }
            let pdf = try await pool.runIfActive { FileManager.default.contents(atPath: output.path) }
            guard status == 0, let pdf, pdf.starts(with: Data("%PDF".utf8)) else {
                throw Failed(description: "the PDF renderer failed (exit status \(status))")
            }
            return pdf
        }
    }

    /// `name` itself when it is a path, else the first executable of that name in PATH.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
