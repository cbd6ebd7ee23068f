import RTP

extension FuzzChecker {
    /// RFC 3550 §5.1, §6.4: a packet we parse serializes to bytes that parse to the same packet.
    func checkRTP(_ input: [UInt8]) throws(FuzzFailure) -> String {
        _ = RTPPacketClass.classify(input)
        var labels: [String] = []
        do {
            let packet = try RTPPacket(parsing: input)
            let view = try RTPPacketView.parse(input)
            guard view.header == packet.header, Array(input[view.payloadRange]) == packet.payload else {
                throw fail("RTPPacketView and RTPPacket disagree")
            }
            let bytes = try packet.serialized()
            let again = try RTPPacket(parsing: bytes)
            guard again == packet else { throw fail("RTP packet changed after serialize/parse: \(bytes.prefix(64))") }
            labels.append("rtp:ok")
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            labels.append("rtp:" + caseName(error))
        }
        do {
            let packets = try RTCPPacket.parseCompound(input)
            let bytes = try RTCPPacket.serializeCompound(packets)
            let again = try RTCPPacket.parseCompound(bytes)
            guard again == packets else { throw fail("RTCP compound changed after serialize/parse: \(bytes.prefix(64))") }
            labels.append("rtcp:\(packets.count)")
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            labels.append("rtcp:" + caseName(error))
        }
        return labels.joined(separator: "/")
    }
}
