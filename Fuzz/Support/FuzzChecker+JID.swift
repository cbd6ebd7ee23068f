import XMPPCore

extension FuzzChecker {
    /// RFC 7622 §3: a JID's string form is its canonical form, so parsing it again gives the same JID; building
    /// the JID from its parts does too.
    func checkJID(_ input: [UInt8]) throws(FuzzFailure) -> String {
        let text = String(decoding: input, as: UTF8.self)
        let jid: JID
        do throws(JIDError) {
            jid = try JID(text)
        } catch {
            return caseName(error)
        }
        let canonical = jid.description
        let again: JID
        let fromParts: JID
        do throws(JIDError) {
            again = try JID(canonical)
            fromParts = try JID(localpart: jid.localpart, domainpart: jid.domainpart, resourcepart: jid.resourcepart)
        } catch {
            throw fail("canonical form '\(canonical)' of '\(text)' is refused: \(error)")
        }
        guard again == jid, again.description == canonical else {
            throw fail("canonical form '\(canonical)' re-parses as '\(again)'")
        }
        guard fromParts == jid else { throw fail("JID built from the parts of '\(canonical)' differs: '\(fromParts)'") }
        for part in [jid.localpart, jid.domainpart, jid.resourcepart].compactMap({ $0 }) where part.utf8.count > JID.maxPartOctets {
            throw fail("a part of \(part.utf8.count) octets was accepted")
        }
        return jid.localpart == nil ? (jid.resourcepart == nil ? "domain" : "domain/res") : "full"
    }
}
