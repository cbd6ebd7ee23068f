// Benchmarks/xml-parse: XMLStream (full element trees) against raw libxml2 SAX (callbacks only),
// on the same generated stream of stanzas, in the same run.
// Run: scripts/bench xml-parse     Last line: xml-parse: ours=<stanzas/s> baseline=<stanzas/s> ratio=<x>
import Foundation
import XMLStream
import CLibXML2
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A realistic XMPP stream: Jingle transport-info IQs, messages and presences, about 500 bytes each.
func makeStream(stanzas: Int) -> [UInt8] {
    var text = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' version='1.0'>"
    for i in 0..<stanzas {
        switch i % 3 {
        case 0:
            text += "<iq from='alice@localhost/a' to='bob@localhost/b' id='ti\(i)' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='a73sjjvkla37jfea'><content creator='initiator' name='voice'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'><candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' priority='2130706431' protocol='udp' type='host'/></transport></content></jingle></iq>"
        case 1:
            text += "<message from='alice@localhost/a' to='bob@localhost' id='m\(i)' type='chat'><body>Hello &amp; welcome, message number \(i) &lt;here&gt;</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>"
        default:
            text += "<presence from='alice@localhost/a' id='p\(i)'><show>away</show><status>Out for lunch</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://swiftjingle.example' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>"
        }
    }
    text += "</stream:stream>"
    return Array(text.utf8)
}

/// Feeds the input in 4 KiB chunks, as a socket would deliver it.
func runOurs(_ input: [UInt8]) -> Int {
    let parser = XMLStreamParser(limits: XMLStreamLimits(maxStanzaBytes: 1 << 20))
    var count = 0
    input.withUnsafeBufferPointer { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = min(4096, buffer.count - offset)
            let events = try! parser.feed(UnsafeBufferPointer(rebasing: buffer[offset..<offset + n]))
            for event in events { if case .element = event { count += 1 } }
            offset += n
        }
    }
    return count
}

nonisolated(unsafe) var baselineCount = 0
nonisolated(unsafe) var baselineDepth = 0

/// Raw libxml2 push parser with SAX2 callbacks that only count stanzas.
func runBaseline(_ input: [UInt8]) -> Int {
    baselineCount = 0
    baselineDepth = 0
    var sax = xmlSAXHandler()
    sax.initialized = UInt32(XML_SAX2_MAGIC)
    sax.startElementNs = { _, _, _, _, _, _, _, _, _ in baselineDepth += 1 }
    sax.endElementNs = { _, _, _, _ in
        if baselineDepth == 2 { baselineCount += 1 }
        baselineDepth -= 1
    }
    sax.characters = { _, _, _ in }
    let ctxt = xmlCreatePushParserCtxt(&sax, nil, nil, 0, nil)!
    xmlCtxtUseOptions(ctxt, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOENT.rawValue))
    input.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
            var offset = 0
            while offset < chars.count {
                let n = min(4096, chars.count - offset)
                _ = xmlParseChunk(ctxt, chars.baseAddress! + offset, Int32(n), 0)
                offset += n
            }
        }
    }
    xmlFreeParserCtxt(ctxt)
    return baselineCount
}

let stanzas = 200_000
let input = makeStream(stanzas: stanzas)
print("input: \(stanzas) stanzas, \(input.count / 1024) KiB, fed in 4 KiB chunks")

/// Runs the two alternately (so load from other processes hits both alike) and keeps the best of each.
func measureInterleaved(rounds: Int) -> (ours: Double, baseline: Double) {
    var best = (ours: 0.0, baseline: 0.0)
    for _ in 0..<rounds {
        for which in 0..<2 {
            let start = now()
            let n = which == 0 ? runBaseline(input) : runOurs(input)
            let rate = Double(n) / (now() - start)
            precondition(n == stanzas, "saw \(n) stanzas, expected \(stanzas)")
            if which == 0 { best.baseline = max(best.baseline, rate) } else { best.ours = max(best.ours, rate) }
        }
    }
    return best
}

func report(_ name: String, _ rate: Double) {
    let megabytes: Double = rate * Double(input.count) / Double(stanzas) / 1e6
    print("\(name): \(Int(rate)) stanzas/s (\(String(format: "%.1f", megabytes)) MB/s), best of 7")
}

let result = measureInterleaved(rounds: 7)
report("raw libxml2 SAX (callbacks only)", result.baseline)
report("XMLStream (full element trees)", result.ours)
print("xml-parse: ours=\(Int(result.ours))stanzas/s baseline=\(Int(result.baseline))stanzas/s ratio=\(String(format: "%.2f", result.ours / result.baseline))")
