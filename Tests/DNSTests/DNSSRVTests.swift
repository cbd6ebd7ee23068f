import DNS
import Testing

@Suite struct DNSSRVTests {
    @Test func queryEncoding() throws {
        let query = try DNSSRV.makeQuery(name: "_xmpp-client._tcp.example.com", id: 0x1234)
        #expect(Array(query.prefix(12)) == [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(Array(query.suffix(5)) == [0, 0, 33, 0, 1])
        #expect(query.count == 12 + 1 + 12 + 1 + 4 + 1 + 7 + 1 + 3 + 1 + 4)
    }

    /// A response with two SRV answers, the second target compressed against the question name.
    @Test func responseParsing() throws {
        var message = try DNSSRV.makeQuery(name: "_xmpp-client._tcp.example.com", id: 7)
        message[2] = 0x81; message[3] = 0x80   // response, RD, RA
        message[7] = 2                         // two answers
        func answer(priority: UInt16, weight: UInt16, port: UInt16, target: [UInt8]) -> [UInt8] {
            let rdata: [UInt8] = [UInt8(priority >> 8), UInt8(priority & 0xFF), UInt8(weight >> 8), UInt8(weight & 0xFF),
                                  UInt8(port >> 8), UInt8(port & 0xFF)] + target
            return [0xC0, 12, 0, 33, 0, 1, 0, 0, 0x0E, 0x10, 0, UInt8(rdata.count)] + rdata
        }
        let xmpp: [UInt8] = [4] + Array("xmpp".utf8) + [0xC0, 30]   // "xmpp" + pointer to "example.com"
        let backup: [UInt8] = [6] + Array("backup".utf8) + [3] + Array("net".utf8) + [0]
        message += answer(priority: 20, weight: 0, port: 5223, target: backup)
        message += answer(priority: 10, weight: 5, port: 5222, target: xmpp)
        let records = try DNSSRV.parseResponse(message, id: 7)
        #expect(records.count == 2)
        #expect(records.contains(DNSSRV.Record(priority: 10, weight: 5, port: 5222, target: "xmpp.example.com")))
        #expect(records.contains(DNSSRV.Record(priority: 20, weight: 0, port: 5223, target: "backup.net")))
        #expect(throws: DNSSRV.ParseError.idMismatch) { try DNSSRV.parseResponse(message, id: 8) }
        #expect(throws: DNSSRV.ParseError.truncated) { try DNSSRV.parseResponse(Array(message.prefix(message.count - 3)), id: 7) }
    }
}
