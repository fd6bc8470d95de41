import Foundation
import SteadfastSigV4
import SteadfastTestSupport
import Testing

/// Creates, through moto's IAM API, a user allowed `s3:*` and its access key, in the three
/// unauthenticated calls a signature-checking moto_server is told to allow.
enum MotoIAM {
    static func createUserWithS3Access(on server: MotoServer) async throws -> AWSCredentials {
        try await server.allowUnauthenticatedCalls(3)
        let bootstrap = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "bootstrap")
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        func call(_ parameters: [(String, String)]) async throws -> String {
            let body = (parameters + [("Version", "2010-05-08")])
                .map { SigV4URIEncoding.encode($0.0) + "=" + SigV4URIEncoding.encode($0.1) }.joined(separator: "&")
            let (status, answer) = try await SignedRequest.send(
                .POST, server.endpoint.absoluteString + "/", credentials: bootstrap, service: "iam",
                body: body, contentType: "application/x-www-form-urlencoded; charset=utf-8"
            )
            try #require(status == 200, "IAM \(parameters[0].1) answered \(status): \(answer)")
            return answer
        }
        _ = try await call([("Action", "CreateUser"), ("UserName", "steadfast")])
        _ = try await call([("Action", "PutUserPolicy"), ("UserName", "steadfast"), ("PolicyName", "s3-all"), ("PolicyDocument", policy)])
        let created = try await call([("Action", "CreateAccessKey"), ("UserName", "steadfast")])
        func element(_ name: String) throws -> String {
            let start = try #require(created.range(of: "<\(name)>"))
            let end = try #require(created.range(of: "</\(name)>"))
            return String(created[start.upperBound..<end.lowerBound])
        }
        return AWSCredentials(accessKeyID: try element("AccessKeyId"), secretAccessKey: try element("SecretAccessKey"))
    }
}
