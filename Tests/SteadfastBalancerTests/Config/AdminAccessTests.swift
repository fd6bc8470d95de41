import Foundation
import Testing

@testable import SteadfastBalancer

@Suite("admin access")
struct AdminAccessTests {
    static let token = "0123456789abcdef-token"

    @Test func onlyTheExactBearerTokenIsAuthorized() {
        #expect(AdminAccess.isAuthorized(["Bearer \(Self.token)"], token: Self.token))
        #expect(AdminAccess.isAuthorized(["bearer \(Self.token)"], token: Self.token), "the scheme is case-insensitive")
        #expect(!AdminAccess.isAuthorized([], token: Self.token))
        #expect(!AdminAccess.isAuthorized(["Bearer"], token: Self.token))
        #expect(!AdminAccess.isAuthorized(["Bearer "], token: Self.token))
        #expect(!AdminAccess.isAuthorized(["Basic \(Self.token)"], token: Self.token))
        #expect(!AdminAccess.isAuthorized(["Bearer \(Self.token)x"], token: Self.token))
        #expect(!AdminAccess.isAuthorized(["Bearer \(Self.token.dropLast())"], token: Self.token))
        #expect(!AdminAccess.isAuthorized(["Bearer \(Self.token.uppercased())"], token: Self.token), "the token itself is case-sensitive")
        #expect(!AdminAccess.isAuthorized(["Bearer \(Self.token)", "Bearer \(Self.token)"], token: Self.token))
    }

    @Test func theComparisonLooksAtEveryByte() {
        #expect(AdminAccess.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AdminAccess.constantTimeEquals(Array("abd".utf8), Array("abc".utf8)))
        #expect(!AdminAccess.constantTimeEquals(Array("ab".utf8), Array("abc".utf8)))
        #expect(!AdminAccess.constantTimeEquals(Array("abc\0".utf8), Array("abc".utf8)), "a longer guess padded with NUL is not equal")
        #expect(!AdminAccess.constantTimeEquals([], Array("abc".utf8)))
    }

    @Test func onlyJSONMayChangeState() {
        #expect(AdminAccess.isJSON(["application/json"]))
        #expect(AdminAccess.isJSON(["Application/JSON; charset=utf-8"]))
        #expect(!AdminAccess.isJSON([]))
        #expect(!AdminAccess.isJSON(["text/plain"]))
        #expect(!AdminAccess.isJSON(["text/plain; application/json"]))
        #expect(!AdminAccess.isJSON(["application/x-www-form-urlencoded"]))
        #expect(!AdminAccess.isJSON(["multipart/form-data; boundary=x"]))
        #expect(!AdminAccess.isJSON(["application/jsonp"]))
        #expect(!AdminAccess.isJSON(["application/json", "text/plain"]))
    }

    @Test func withoutATokenTheHostMustBeAnAddress() {
        for host in ["127.0.0.1", "127.0.0.1:9090", "localhost:9090", "LOCALHOST", "[::1]:9090", "[::1]", "10.0.0.5:80"] {
            #expect(AdminAccess.isAddressHost([host]), "\(host)")
        }
        for host in ["evil.example", "evil.example:9090", "127.0.0.1.nip.io", "1.2.3", "256.0.0.1", "localhost.evil", "[::1", "", "127.0.0.1:x"] {
            #expect(!AdminAccess.isAddressHost([host]), "\(host)")
        }
        #expect(!AdminAccess.isAddressHost([]))
        #expect(!AdminAccess.isAddressHost(["127.0.0.1", "127.0.0.1"]))
    }

    static let servers = """
        listeners:
          - address: 127.0.0.1:8080
        servers:
          - address: 127.0.0.1:9001

        """

    @Test func adminDefaultsToLoopbackAndNeedsATokenElsewhere() throws {
        let bare = try BalancerConfiguration.load(yaml: Self.servers + "admin:\n  token: \(Self.token)\n")
        #expect(bare.admin == .init(host: "127.0.0.1", port: 9090))
        #expect(bare.adminToken == Self.token)
        let port = try BalancerConfiguration.load(yaml: Self.servers + "admin:\n  address: 9191\n")
        #expect(port.admin == .init(host: "127.0.0.1", port: 9191))
        #expect(port.adminToken == nil)
        let colon = try BalancerConfiguration.load(yaml: Self.servers + "admin:\n  address: \":9191\"\n")
        #expect(colon.admin == .init(host: "127.0.0.1", port: 9191))
        let ipv6 = try BalancerConfiguration.load(yaml: Self.servers + "admin:\n  address: \"[::1]:9191\"\n")
        #expect(ipv6.admin == .init(host: "::1", port: 9191))

        #expect(BalancerConfigurationTests.error(Self.servers + "admin:\n  address: 0.0.0.0:9090\n")?.key == "admin.token")
        #expect(BalancerConfigurationTests.error(Self.servers + "admin:\n  address: 10.1.2.3:9090\n")?.key == "admin.token")
        let open = try BalancerConfiguration.load(yaml: Self.servers + "admin:\n  address: 0.0.0.0:9090\n  token: \(Self.token)\n")
        #expect(open.admin == .init(host: "0.0.0.0", port: 9090))
    }

    @Test func tokensComeFromTheFileOrInlineButNotBoth() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("admin-token-\(UUID().uuidString)").path
        try "\(Self.token)\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try BalancerConfiguration.load(yaml: Self.servers + "admin:\n  token_file: \(file)\n")
        #expect(fromFile.adminToken == Self.token, "the trailing newline is not part of the token")
        #expect(
            BalancerConfigurationTests.error(Self.servers + "admin:\n  token: \(Self.token)\n  token_file: \(file)\n")?.key
                == "admin.token_file"
        )
        #expect(BalancerConfigurationTests.error(Self.servers + "admin:\n  token_file: /nonexistent/token\n")?.key == "admin.token_file")
        #expect(BalancerConfigurationTests.error(Self.servers + "admin:\n  token: short\n")?.key == "admin.token")
        #expect(BalancerConfigurationTests.error(Self.servers + "admin:\n  token: \"has a space in the middle\"\n")?.key == "admin.token")
        #expect(BalancerConfigurationTests.error(Self.servers + "admin:\n  tokn: x\n")?.key == "admin.tokn")
    }
}
