import Foundation
import SteadfastSigV4
import Testing

/// Signature Version 4 against AWS's own worked examples: fixed date, and the exact canonical
/// request, string to sign and signature AWS published.
@Suite struct AWSPublishedExamplesTests {
    static let s3Credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let may24 = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    let s3 = SigV4Signer(credentials: s3Credentials, region: "us-east-1", service: "s3")

    @Test func dateFormsAreUTCAndCompact() {
        #expect(SigV4Date(Self.may24).timestamp == "20130524T000000Z")
        #expect(SigV4Date(Self.may24).day == "20130524")
        #expect(SigV4Date(Date(timeIntervalSince1970: 1_440_938_160)).timestamp == "20150830T123600Z")
        #expect(SigV4Date(Date(timeIntervalSince1970: 951_782_400)).timestamp == "20000229T000000Z")
    }

    /// "Example: GET Object" (S3 API reference, header-based authentication).
    @Test func s3GetObjectWithRange() throws {
        let signed = try s3.signHeaders(
            method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!,
            headers: [SigV4Header("Range", "bytes=0-9")], payload: .empty, date: Self.may24
        )
        #expect(signed.canonicalRequest.text == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.header("Authorization") == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// "Example: PUT Object": a `$` in the key, a body, a `Date` header and a storage class.
    @Test func s3PutObject() throws {
        let body = Array("Welcome to Amazon S3.".utf8)
        let payload = SigV4Payload.bytes(body)
        #expect(payload.canonicalValue == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = try s3.signHeaders(
            method: "PUT",
            url: URL(string: "https://examplebucket.s3.amazonaws.com/" + SigV4URIEncoding.encode("test$file.text", keepSlash: true))!,
            headers: [SigV4Header("Date", "Fri, 24 May 2013 00:00:00 GMT"), SigV4Header("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payload: payload, date: Self.may24
        )
        #expect(signed.canonicalRequest.text == """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        #expect(signed.stringToSign.hasSuffix("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    /// "Example: GET Bucket Lifecycle": a bare query parameter.
    @Test func s3GetBucketLifecycle() throws {
        let signed = try s3.signHeaders(method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/?lifecycle")!, payload: .empty, date: Self.may24)
        #expect(signed.canonicalRequest.query == "lifecycle=")
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    /// "Example: Get Bucket (List Objects)": parameters sorted by name.
    @Test func s3ListObjects() throws {
        let signed = try s3.signHeaders(method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J")!, payload: .empty, date: Self.may24)
        #expect(signed.canonicalRequest.query == "max-keys=2&prefix=J")
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    /// "Authenticating Requests: Using Query Parameters" (presigned GET, 24 hours).
    @Test func s3PresignedGet() throws {
        let presigned = try s3.presignURL(method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!, expiresInSeconds: 86_400, date: Self.may24)
        #expect(presigned.canonicalRequest.text == """
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """)
        #expect(presigned.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04
            """)
        #expect(presigned.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(presigned.url.absoluteString == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// The general Signature Version 4 example (IAM ListUsers): a service other than S3, no
    /// `x-amz-content-sha256`.
    @Test func iamListUsers() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "iam"
        )
        let signed = try signer.signHeaders(
            method: "GET", url: URL(string: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")!,
            headers: [SigV4Header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            payload: .empty, date: Date(timeIntervalSince1970: 1_440_938_160)
        )
        #expect(signed.canonicalRequest.text == """
            GET
            /
            Action=ListUsers&Version=2010-05-08
            content-type:application/x-www-form-urlencoded; charset=utf-8
            host:iam.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign.hasSuffix("f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"))
        #expect(signed.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }
}
