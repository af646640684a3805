import Certificates
import Foundation
import KofuTesting
import Testing

@Suite struct TemplateTests {
    static let juminhyo = try! [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixture.root + "/Templates/juminhyo.json")))

    @Test func committedTemplatesLoad() throws {
        let template = try Template.load(Self.juminhyo)
        #expect(template.kind == "juminhyo" && template.block.perPage == 4)
    }

    /// A typo in a template fails loading with the path of the bad member, never silently.
    @Test(arguments: [
        (#""size": 20, "align": "center"}"#, #""size": 20, "align": "centre"}"#),
        (#""type": "label", "text": "住民票の写し""#, #""type": "label", "txt": "住民票の写し""#),
        (#""field": "person.name""#, #""field": "person.nmae""#),
        (#""perPage": 4"#, #""perPage": 4, "perpage": 5"#),
        (#""minimumSize": 5"#, #""minimumSize": "5""#),
    ])
    func brokenTemplatesAreRefused(original: String, broken: String) throws {
        let text = String(decoding: Self.juminhyo, as: UTF8.self)
        #expect(text.contains(original))
        let mutated = text.replacingOccurrences(of: original, with: broken)
        #expect(throws: (any Error).self) { try Template.load(Array(mutated.utf8)) }
    }

    @Test func duplicateKeysAreRefused() {
        let text = String(decoding: Self.juminhyo, as: UTF8.self)
            .replacingOccurrences(of: #""lineSpacing": 1.15"#, with: #""lineSpacing": 1.15, "lineSpacing": 2"#)
        #expect(throws: (any Error).self) { try Template.load(Array(text.utf8)) }
    }
}

@Suite struct ConcurrencyTests {
    /// One renderer shared by many threads gives every request exactly its own certificate:
    /// each concurrent render is byte-identical to the same content rendered alone.
    @Test func concurrentRendersNeverMix() throws {
        let renderer = Fixture.renderer
        let contents: [JuminhyoContent] = (0..<8).map { i in
            var persons = Demo.largeHousehold(1 + i % 4)
            persons[0].name = "見本　" + ["一", "二", "三", "四", "五", "六", "七", "八"][i] + "郎"
            return Demo.juminhyo(persons, id: "ID\(i)X\(i)Y\(i)Z")
        }
        let expected = try contents.map { try renderer.render($0).pdf }
        let results = Results(count: contents.count * 25)
        DispatchQueue.concurrentPerform(iterations: contents.count * 25) { n in
            results.set(n, (try? renderer.render(contents[n % contents.count]).pdf) == expected[n % contents.count])
        }
        #expect(results.all)
    }

    final class Results: @unchecked Sendable {
        private var values: [Bool]
        private let lock = NSLock()
        init(count: Int) { values = Array(repeating: false, count: count) }
        func set(_ i: Int, _ v: Bool) { lock.lock(); values[i] = v; lock.unlock() }
        var all: Bool { lock.lock(); defer { lock.unlock() }; return values.allSatisfy { $0 } }
    }
}
