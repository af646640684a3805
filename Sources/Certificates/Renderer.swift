import Foundation
import Typesetting

/// A rendered certificate: the PDF bytes and their page count.
public struct RenderedCertificate: Sendable {
    public let pdf: [UInt8]
    public let pageCount: Int
}

/// Renders both certificates for one municipality. Built once per process from the templates,
/// fonts and municipality configuration; holds only those (never resident data) and is safe to
/// share between concurrent requests: each render builds its own document and drops it.
public final class CertificateRenderer: Sendable {
    public let fonts: FontStack
    let juminhyo: PreparedTemplate
    let inkan: PreparedTemplate

    public init(templatesDirectory: String, fonts: FontStack, municipality: Municipality) throws(CertificateError) {
        self.fonts = fonts
        let seal: PDFImage
        do {
            seal = try PDFImage(pngData: municipality.officialSealPNG, compression: 9)
        } catch {
            throw CertificateError(error, field: "officialSeal")
        }
        func load(_ kind: String) throws(CertificateError) -> PreparedTemplate {
            let path = templatesDirectory + "/\(kind).json"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CertificateError(code: .template, detail: "cannot read \(path)")
            }
            let template: Template
            do {
                template = try Template.load([UInt8](data))
            } catch {
                throw CertificateError(code: .template, detail: "\(path): \(error)")
            }
            guard template.kind == kind else {
                throw CertificateError(code: .template, detail: "\(path) is a \(template.kind) template")
            }
            return try PreparedTemplate(template, fonts: fonts, municipality: municipality, seal: seal)
        }
        juminhyo = try load("juminhyo")
        inkan = try load("inkan")
    }

    /// Builds the subsetting data of the fonts now, so that the first request does not pay for it.
    public func warmUp() { for face in fonts.fonts { face.prepareForSubsetting() } }

    public func render(_ content: JuminhyoContent) throws(CertificateError) -> RenderedCertificate {
        guard !content.persons.isEmpty else { throw CertificateError(code: .content, detail: "no person to print") }
        var page: [String: String] = [
            "issuanceId": content.facts.issuanceId,
            "household.address": content.householdAddress,
            "household.head": content.householdHeadName,
        ]
        page["household.katagaki"] = content.householdKatagaki
        let last: [String: String] = [
            "attestation": juminhyo.attestation.juminhyo(content.coverage),
            "issueDate": Wareki.format(content.facts.issueDate) ?? "",
        ]
        let blocks = content.persons.map { person in
            (values: CertificateRenderer.juminhyoValues(person, options: content.options),
             conditions: PreparedTemplate.conditions(person))
        }
        return try juminhyo.render(title: "住民票の写し", page: page, blocks: blocks, last: last, impression: nil)
    }

    public func render(_ content: InkanContent) throws(CertificateError) -> RenderedCertificate {
        let person = content.person
        var values: [String: String] = [
            "person.name": person.name,
            "person.birthDate": CertificateRenderer.birthDate(person),
            "person.sex": person.sex,
            "person.address": person.address,
        ]
        values["person.aside"] = CertificateRenderer.aside(person)
        values["person.katagaki"] = person.katagaki
        let impression: (PDFImage, SealImpression)
        do {
            impression = (try PDFImage(pngData: content.impression.png, compression: 1), content.impression)
        } catch {
            throw CertificateError(error, field: "impression")
        }
        return try inkan.render(
            title: "印鑑登録証明書", page: ["issuanceId": content.facts.issuanceId],
            blocks: [(values, PreparedTemplate.conditions(person))],
            last: ["attestation": inkan.attestation.inkan, "issueDate": Wareki.format(content.facts.issueDate) ?? ""],
            impression: impression)
    }

    static func birthDate(_ person: Person) -> String {
        // A 外国人住民's date of birth is printed in 西暦; every other date in 和暦.
        person.isForeignResident ? Wareki.formatGregorian(person.birthDate) : (Wareki.format(person.birthDate) ?? "")
    }

    static func aside(_ person: Person) -> String? {
        let parts = [person.formerSurname.map { "旧氏　" + $0 }, person.alias.map { "通称　" + $0 }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: "　")
    }

    static func juminhyoValues(_ person: Person, options: JuminhyoOptions) -> [String: String] {
        let omitted = "省略"
        var v: [String: String] = [
            "person.name": person.name,
            "person.birthDate": birthDate(person),
            "person.sex": person.sex,
            "person.relationship": options.relationship ? person.relationship : omitted,
            "person.becameResidentOn": Wareki.format(person.becameResidentOn) ?? "",
            "person.addressSetOn": Wareki.format(person.addressSetOn) ?? "",
            "person.addressNotifiedOn": Wareki.format(person.addressNotifiedOn) ?? "",
        ]
        v["person.aside"] = aside(person)
        v["person.previousAddress"] = person.previousAddress
        if let foreign = person.foreignResident {
            // 本籍 is never printed for a 外国人住民, whatever the options say.
            if options.foreignResidentItems {
                v["person.nationality"] = foreign.nationality
                v["person.category"] = foreign.category
                v["person.status"] = foreign.status
                v["person.periodOfStay"] = foreign.periodOfStay
                v["person.expiresOn"] = Wareki.format(foreign.expiresOn)
            } else {
                v["person.nationality"] = omitted
            }
        } else if options.domicile {
            v["person.domicileAddress"] = person.domicile?.address
            v["person.domicileHead"] = person.domicile?.head
        } else {
            v["person.domicileAddress"] = omitted
        }
        return v
    }
}

/// A template with everything fixed per process done: label texts shaped and fitted, the label
/// font subset built and compressed, the official seal compressed.
struct PreparedTemplate: Sendable {
    let template: Template
    let fonts: FontStack
    let labelFont: PreparedFont
    let fixedTexts: [String: FittedText]  // key: item identity (see `fixedKey`)
    let seal: PDFImage
    let sealMm: Double
    let attestation: Attestation
    let municipality: String
    let authority: String
    let ascent: Double

    static let mm = 72.0 / 25.4

    init(_ template: Template, fonts: FontStack, municipality: Municipality, seal: PDFImage) throws(CertificateError) {
        self.template = template
        self.fonts = fonts
        self.seal = seal
        self.sealMm = municipality.officialSealMm
        self.attestation = municipality.attestation
        self.municipality = municipality.name
        self.authority = municipality.authority
        self.ascent = Double(fonts.base.ascender) / Double(fonts.base.unitsPerEm)

        // The label font holds exactly the glyphs that every certificate of this template draws:
        // unconditional labels, the closing mark, and the municipality's fixed lines.
        var fixed: [String: FittedText] = [:]
        var shapedFixed: [ShapedText] = []
        func prepare(_ key: String, _ text: String, cell: Template.Cell, size: Double, minSize: Double?) throws(CertificateError) {
            do {
                let shaped = try fonts.shape(text)
                fixed[key] = try PreparedTemplate.fit(shaped, cell: cell, size: size, minSize: minSize, template: template)
                shapedFixed.append(shaped)
            } catch {
                throw CertificateError(error, field: key)
            }
        }
        for (section, items) in [("page", template.page), ("block", template.block.items), ("lastPage", template.lastPage)] {
            for (index, item) in items.enumerated() {
                switch item {
                case .label(let text, let cell, let size, _, nil):
                    try prepare("\(section).\(index)", text, cell: cell, size: size, minSize: nil)
                case .field("municipality", let cell, let size, let minSize, _, nil):
                    try prepare("\(section).\(index)", municipality.name, cell: cell, size: size, minSize: minSize)
                case .field("authority", let cell, let size, let minSize, _, nil):
                    try prepare("\(section).\(index)", municipality.authority, cell: cell, size: size, minSize: minSize)
                case .image("officialSeal", let cell, _):
                    guard sealMm > 0, sealMm <= min(cell.w, cell.h) else {
                        throw CertificateError(code: .template, field: "official_seal_mm",
                                               detail: "the 職印 of \(sealMm) mm does not fit its \(cell.w)×\(cell.h) mm place")
                    }
                default: break
                }
            }
        }
        let closing = template.closing
        try prepare("closing", closing.text, cell: Template.Cell(x: closing.x, y: 0, w: closing.w, h: closing.h),
                    size: closing.size, minSize: nil)
        self.fixedTexts = fixed
        do {
            labelFont = try PreparedFont(face: fonts.base, texts: shapedFixed)
        } catch {
            throw CertificateError(error, field: nil)
        }
    }

    static func fit(_ shaped: ShapedText, cell: Template.Cell, size: Double, minSize: Double?,
                    template: Template) throws(TypesettingError) -> FittedText {
        let pad = template.padding * mm
        return try TextFitter.fit(shaped, width: cell.w * mm - 2 * pad, height: cell.h * mm - 2 * pad,
                                  nominal: size, minimum: min(size, minSize ?? template.minimumSize),
                                  lineSpacing: template.lineSpacing)
    }

    static func conditions(_ person: Person) -> Set<String> {
        [person.isForeignResident ? "foreignResident" : "nationalResident"]
    }

    typealias BlockValues = (values: [String: String], conditions: Set<String>)

    func render(title: String, page pageValues: [String: String], blocks: [BlockValues], last: [String: String],
                impression: (PDFImage, SealImpression)?) throws(CertificateError) -> RenderedCertificate {
        let perPage = template.block.perPage
        let pageCount = (blocks.count + perPage - 1) / perPage
        let document = PDFDocument(fonts: fonts, labels: labelFont, title: title)
        let sealHandle = document.register(seal)
        let impressionHandle = impression.map { document.register($0.0) }

        for pageIndex in 0..<pageCount {
            let page = document.addPage()
            var values = pageValues
            values["page"] = "\(pageIndex + 1) / \(pageCount)"
            let isLast = pageIndex == pageCount - 1
            try draw(template.page, section: "page", on: page, origin: (0, 0), values: values, conditions: [],
                     images: ["officialSeal": sealHandle], impression: impression, impressionHandle: impressionHandle)
            let slice = blocks[(pageIndex * perPage)..<min(blocks.count, (pageIndex + 1) * perPage)]
            for (slot, block) in slice.enumerated() {
                let origin = (template.block.x, template.block.top + Double(slot) * template.block.pitch)
                try draw(template.block.items, section: "block", on: page, origin: origin, values: block.values,
                         conditions: block.conditions, images: [:], impression: impression, impressionHandle: impressionHandle)
            }
            if isLast {
                let closing = template.closing
                let y = template.block.top + Double(slice.count) * template.block.pitch
                drawFitted(fixedTexts["closing"]!, cell: Template.Cell(x: closing.x, y: y, w: closing.w, h: closing.h),
                           align: closing.align, on: page)
                try draw(template.lastPage, section: "lastPage", on: page, origin: (0, 0), values: last, conditions: [],
                         images: ["officialSeal": sealHandle], impression: impression, impressionHandle: impressionHandle)
            }
        }
        guard document.unusedLabelGlyphs == 0 else {
            throw CertificateError(code: .template, detail: "the label font holds \(document.unusedLabelGlyphs) glyphs this certificate does not draw")
        }
        do {
            return RenderedCertificate(pdf: try document.finish(), pageCount: pageCount)
        } catch {
            throw CertificateError(error, field: nil)
        }
    }

    private func draw(_ items: [Template.Item], section: String, on page: PDFPage, origin: (Double, Double),
                      values: [String: String], conditions: Set<String>, images: [String: ImageHandle],
                      impression: (PDFImage, SealImpression)?, impressionHandle: ImageHandle?) throws(CertificateError) {
        let mm = PreparedTemplate.mm
        let height = PDFDocument.a4.height
        func at(_ cell: Template.Cell) -> Template.Cell {
            Template.Cell(x: cell.x + origin.0, y: cell.y + origin.1, w: cell.w, h: cell.h)
        }
        for (index, item) in items.enumerated() {
            switch item {
            case .rule(let x1, let y1, let x2, let y2, let width, let when):
                if let when, !conditions.contains(when) { continue }
                page.strokeLine(x1: (x1 + origin.0) * mm, y1: height - (y1 + origin.1) * mm,
                                x2: (x2 + origin.0) * mm, y2: height - (y2 + origin.1) * mm, width: width)
            case .box(let cell, let width, let when):
                if let when, !conditions.contains(when) { continue }
                let c = at(cell)
                page.strokeRect(x: c.x * mm, y: height - (c.y + c.h) * mm, width: c.w * mm, height: c.h * mm, lineWidth: width)
            case .label(let text, let cell, let size, let align, let when):
                if let fitted = fixedTexts["\(section).\(index)"] {
                    drawFitted(fitted, cell: at(cell), align: align, on: page)
                } else if let when, conditions.contains(when) {
                    try drawValue(text, field: "label", cell: at(cell), size: size, minSize: nil, align: align, on: page)
                }
            case .field(let name, let cell, let size, let minSize, let align, let when):
                if let when, !conditions.contains(when) { continue }
                if let fitted = fixedTexts["\(section).\(index)"] {
                    drawFitted(fitted, cell: at(cell), align: align, on: page)
                } else if let value = values[name], !value.isEmpty {
                    try drawValue(value, field: name, cell: at(cell), size: size, minSize: minSize, align: align, on: page)
                }
            case .image(let name, let cell, let when):
                if let when, !conditions.contains(when) { continue }
                let c = at(cell)
                let handle: ImageHandle
                let (w, h): (Double, Double)
                if name == "officialSeal", let seal = images["officialSeal"] {
                    handle = seal
                    (w, h) = (sealMm, sealMm)
                } else if name == "impression", let impressionHandle, let impression {
                    handle = impressionHandle
                    (w, h) = (impression.1.widthMm, impression.1.heightMm)
                    guard w > 0, h > 0, w <= c.w, h <= c.h else {
                        throw CertificateError(code: .image, field: "impression",
                                               detail: "an impression of \(w)×\(h) mm does not fit its \(c.w)×\(c.h) mm frame")
                    }
                } else { continue }
                // Centred in its cell, at exactly its registered physical size.
                let x = c.x + (c.w - w) / 2, y = c.y + (c.h - h) / 2
                page.image(handle, x: x * mm, y: height - (y + h) * mm, width: w * mm, height: h * mm)
            }
        }
    }

    private func drawValue(_ value: String, field: String, cell: Template.Cell, size: Double, minSize: Double?,
                           align: Template.Align, on page: PDFPage) throws(CertificateError) {
        let fitted: FittedText
        do {
            fitted = try PreparedTemplate.fit(try fonts.shape(value), cell: cell, size: size, minSize: minSize, template: template)
        } catch {
            throw CertificateError(error, field: field)
        }
        drawFitted(fitted, cell: cell, align: align, on: page)
    }

    private func drawFitted(_ fitted: FittedText, cell: Template.Cell, align: Template.Align, on page: PDFPage) {
        let mm = PreparedTemplate.mm
        let pad = template.padding * mm
        let left = cell.x * mm + pad, innerWidth = cell.w * mm - 2 * pad
        let blockHeight = fitted.size + Double(fitted.lines.count - 1) * fitted.lineHeight
        // Lines centred vertically in the cell; baselines one ascent below each line's top.
        let top = cell.y * mm + (cell.h * mm - blockHeight) / 2
        for (index, line) in fitted.lineTexts.enumerated() {
            let width = fitted.width(ofLine: index)
            let x = switch align {
            case .left: left
            case .center: left + (innerWidth - width) / 2
            case .right: left + innerWidth - width
            }
            let baseline = top + Double(index) * fitted.lineHeight + ascent * fitted.size
            page.text(line, x: x, y: PDFDocument.a4.height - baseline, size: fitted.size)
        }
    }
}
