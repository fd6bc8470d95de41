"""Signs requests with botocore (the independent oracle for SteadfastSigV4's tests).

Reads a JSON list of cases from the file named by argv[1] and prints a JSON list of results,
one per case, in order. Each case:
  mode: "headers" | "presign"; method; url (path and query already encoded); headers: [[n, v]];
  body_hex; timestamp ("YYYYMMDDTHHMMSSZ"); region; service; access_key; secret_key;
  token (or null); expires (presign only).
Each result: canonical_request, string_to_sign, signature, and url (presign) or
authorization (headers).
"""
import json
import sys

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    request = AWSRequest(
        method=case["method"],
        url=case["url"],
        headers={name: value for name, value in case["headers"]},
        data=bytes.fromhex(case.get("body_hex", "")),
    )
    if case["mode"] == "presign":
        signer = S3SigV4QueryAuth(credentials, case["service"], case["region"], expires=case["expires"])
    elif case["service"] == "s3":
        signer = S3SigV4Auth(credentials, case["service"], case["region"])
    else:
        signer = SigV4Auth(credentials, case["service"], case["region"])
    # The steps of botocore's add_auth, with the timestamp pinned instead of "now".
    request.context["timestamp"] = case["timestamp"]
    signer._modify_request_before_signing(request)
    canonical_request = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical_request)
    signature = signer.signature(string_to_sign, request)
    signer._inject_signature_to_request(request, signature)
    result = {
        "canonical_request": canonical_request,
        "string_to_sign": string_to_sign,
        "signature": signature,
    }
    if case["mode"] == "presign":
        result["url"] = request.url
    else:
        result["authorization"] = request.headers["Authorization"]
    return result


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        cases = json.load(handle)
    json.dump([sign(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
