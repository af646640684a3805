/// Placeholder: the full OpenAPI 3.1 document lands with its own commit.
public enum OpenAPIDocument {
    public static let json = #"{"openapi":"3.1.0","info":{"title":"kofu","version":"1"},"paths":{}}"#
}
