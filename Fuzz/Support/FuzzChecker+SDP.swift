import SDP

extension FuzzChecker {
    /// RFC 8866: what we parse we must write back in a form that parses to the same model, and writing is stable.
    func checkSDP(_ input: [UInt8]) throws(FuzzFailure) -> String {
        let text = String(decoding: input, as: UTF8.self)
        var labels: [String] = []
        for policy in [SDPParser.MalformedAttributePolicy.reject, .keepAsOther] {
            let parser = SDPParser(options: .init(malformedAttributes: policy))
            let model: SessionDescription
            do throws(SDPError) {
                model = try parser.parse(text)
            } catch {
                labels.append(error.kind.rawValue)
                continue
            }
            let written = model.serialized()
            let again: SessionDescription
            do throws(SDPError) {
                again = try parser.parse(written)
            } catch {
                throw fail("serialized description does not parse (\(policy)): \(error)\n\(written.prefix(400))")
            }
            guard again == model else { throw fail("model changed after serialize/parse (\(policy)):\n\(written.prefix(400))") }
            let rewritten = again.serialized()
            guard rewritten == written else { throw fail("serializing is not stable (\(policy)):\n\(written.prefix(400))") }
            labels.append("ok:\(model.media.count)")
        }
        return labels.joined(separator: "/")
    }
}
