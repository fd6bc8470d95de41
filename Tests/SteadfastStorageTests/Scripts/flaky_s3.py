"""A stand-in S3 endpoint that fails first: answers the first N requests with the given
status and an S3 error document (503 SlowDown, 429, 500...), then serves every GET with a
fixed body. For testing the S3 backend's retries. Usage: flaky_s3.py PORT FAILURES STATUS"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, FAILURES, STATUS = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
BODY = b"served after retries"
seen = {"count": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/ready"):
            body = b"ready"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        seen["count"] += 1
        if seen["count"] <= FAILURES:
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            self.send_response(STATUS)
        else:
            body = BODY
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
