import KofuJSON

/// A certificate's layout, loaded from a declarative file in Templates/ (see Templates/README.md).
/// All lengths are millimetres from the page's top-left corner (block items: from the block's
/// top-left corner); sizes are points.
public struct Template: Decodable, Sendable {
    public let format: String
    public let kind: String
    /// The smallest size any value may shrink to, unless a field says otherwise.
    public let minimumSize: Double
    public let lineSpacing: Double
    /// Inner margin of every cell.
    public let padding: Double
    /// On every page.
    public let page: [Item]
    /// Repeated once per person (住民票) or once (印鑑登録証明書).
    public let block: Block
    /// 「以下余白」, placed right below the last block.
    public let closing: Closing
    /// On the last page only: 認証文, date, authority line, 職印.
    public let lastPage: [Item]

    public struct Block: Decodable, Sendable {
        public let x: Double
        public let top: Double
        public let pitch: Double
        public let perPage: Int
        public let items: [Item]
    }

    public struct Closing: Decodable, Sendable {
        public let text: String
        public let x: Double
        public let w: Double
        public let h: Double
        public let size: Double
        public let align: Align
    }

    public enum Align: String, Decodable, Sendable { case left, center, right }

    public struct Cell: Sendable {
        public let x: Double, y: Double, w: Double, h: Double
    }

    public enum Item: Decodable, Sendable {
        /// A straight line.
        case rule(x1: Double, y1: Double, x2: Double, y2: Double, width: Double, when: String?)
        /// A rectangle outline.
        case box(Cell, width: Double, when: String?)
        /// Fixed text. With `when`, drawn only where that condition holds.
        case label(text: String, cell: Cell, size: Double, align: Align, when: String?)
        /// A value computed by the certificate (see `Template.fields`).
        case field(name: String, cell: Cell, size: Double, minSize: Double?, align: Align, when: String?)
        /// An image centred in the cell at its registered physical size.
        case image(name: String, cell: Cell, when: String?)

        enum Keys: String, CodingKey {
            case type, x1, y1, x2, y2, width, x, y, w, h, text, size, minSize, align, field, image, when
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            func cell() throws -> Cell {
                let cell = Cell(x: try c.decode(Double.self, forKey: .x), y: try c.decode(Double.self, forKey: .y),
                                w: try c.decode(Double.self, forKey: .w), h: try c.decode(Double.self, forKey: .h))
                guard cell.w > 0, cell.h > 0 else {
                    throw DecodingError.dataCorruptedError(forKey: .w, in: c, debugDescription: "a cell needs a positive size")
                }
                return cell
            }
            switch try c.decode(String.self, forKey: .type) {
            case "rule":
                self = .rule(x1: try c.decode(Double.self, forKey: .x1), y1: try c.decode(Double.self, forKey: .y1),
                             x2: try c.decode(Double.self, forKey: .x2), y2: try c.decode(Double.self, forKey: .y2),
                             width: try c.decode(Double.self, forKey: .width),
                             when: try c.decodeIfPresent(String.self, forKey: .when))
            case "box":
                self = .box(try cell(), width: try c.decode(Double.self, forKey: .width),
                            when: try c.decodeIfPresent(String.self, forKey: .when))
            case "label":
                self = .label(text: try c.decode(String.self, forKey: .text), cell: try cell(),
                              size: try c.decode(Double.self, forKey: .size),
                              align: try c.decodeIfPresent(Align.self, forKey: .align) ?? .left,
                              when: try c.decodeIfPresent(String.self, forKey: .when))
            case "field":
                let name = try c.decode(String.self, forKey: .field)
                guard Template.fields.contains(name) else {
                    throw DecodingError.dataCorruptedError(forKey: .field, in: c, debugDescription: "unknown field \(name)")
                }
                self = .field(name: name, cell: try cell(), size: try c.decode(Double.self, forKey: .size),
                              minSize: try c.decodeIfPresent(Double.self, forKey: .minSize),
                              align: try c.decodeIfPresent(Align.self, forKey: .align) ?? .left,
                              when: try c.decodeIfPresent(String.self, forKey: .when))
            case "image":
                let name = try c.decode(String.self, forKey: .image)
                guard ["officialSeal", "impression"].contains(name) else {
                    throw DecodingError.dataCorruptedError(forKey: .image, in: c, debugDescription: "unknown image \(name)")
                }
                self = .image(name: name, cell: try cell(), when: try c.decodeIfPresent(String.self, forKey: .when))
            case let other:
                throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown item type \(other)")
            }
        }
    }

    /// The values a template may place. Which are filled depends on the certificate.
    public static let fields: Set<String> = [
        "issuanceId", "page", "municipality", "authority", "attestation", "issueDate",
        "household.address", "household.katagaki", "household.head",
        "person.name", "person.aside", "person.birthDate", "person.sex", "person.relationship",
        "person.address", "person.katagaki",
        "person.becameResidentOn", "person.addressSetOn", "person.addressNotifiedOn", "person.previousAddress",
        "person.domicileAddress", "person.domicileHead",
        "person.nationality", "person.category", "person.status", "person.periodOfStay", "person.expiresOn",
    ]

    /// Conditions an item's `when` may name.
    public static let conditions: Set<String> = ["foreignResident", "nationalResident"]

    public static func load(_ bytes: [UInt8]) throws -> Template {
        let template = try StrictJSONDecoder().decode(Template.self, from: bytes)
        try template.validate()
        return template
    }

    public struct InvalidTemplate: Error, CustomStringConvertible {
        public let description: String
    }

    func validate() throws {
        guard format == "kofu-template/1" else { throw InvalidTemplate(description: "format must be kofu-template/1") }
        guard ["juminhyo", "inkan"].contains(kind) else { throw InvalidTemplate(description: "kind must be juminhyo or inkan") }
        guard minimumSize >= 3, lineSpacing >= 1, padding >= 0, block.perPage >= 1, block.pitch > 0 else {
            throw InvalidTemplate(description: "minimumSize ≥ 3, lineSpacing ≥ 1, padding ≥ 0, block.perPage ≥ 1, block.pitch > 0")
        }
        for item in page + block.items + lastPage {
            let when: String?
            switch item {
            case .label(_, _, _, _, let w), .field(_, _, _, _, _, let w), .image(_, _, let w),
                 .rule(_, _, _, _, _, let w), .box(_, _, let w): when = w
            }
            if let when, !Template.conditions.contains(when) {
                throw InvalidTemplate(description: "unknown condition \(when)")
            }
        }
    }
}
