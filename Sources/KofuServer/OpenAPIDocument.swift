/// The server's own OpenAPI 3.1 document of both listeners (center-api.md, sync-feed.md), served at
/// `GET /openapi.json` on the Center API listener. Kept as literal JSON so that what is served is
/// exactly what is reviewed here.
public enum OpenAPIDocument {
    public static let json: String = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "kofu — municipal certificate issuance server",
    "version": "1.0.0",
    "summary": "Center API (証明書交付センター) and sync feed of the municipality's issuance server.",
    "description": "Two separate listeners, each with its own address and port and its own client CA:\n\n- the **Center API** listener (`[listen] center`; operations tagged `Center API` and `Operations`, `x-listener: center`) serves the 証明書交付センター, which authenticates the channel with a client certificate from `[tls] center_client_ca`;\n- the **sync** listener (`[listen] sync`; operations tagged `Sync feed`, `x-listener: sync`, with their own `servers`) serves the upstream 既存住民基本台帳システム, authenticated with a client certificate from `[tls] sync_client_ca`.\n\nA listener answers 404 (problem document, code NOT_FOUND) for a path it does not serve, before any check of content type or body: the sync paths are 404 on the Center API listener and the other way round. Every response carries `X-Request-Id` and no personal data in headers. All bodies are UTF-8. Without `[tls]` (development) both listen on plain HTTP on loopback addresses only."
  },
  "servers": [
    {
      "url": "https://{host}:{port}",
      "description": "Center API listener (`[listen] center`): mutual TLS with the center's CA. Development mode without `[tls]`: plain HTTP on a loopback address only.",
      "variables": {
        "host": {
          "default": "127.0.0.1"
        },
        "port": {
          "default": "8443"
        }
      }
    }
  ],
  "tags": [
    {
      "name": "Center API",
      "description": "Card-authenticated requests from the 証明書交付センター (Center API listener)."
    },
    {
      "name": "Operations",
      "description": "Health, readiness, metrics and this document (Center API listener)."
    },
    {
      "name": "Sync feed",
      "description": "The replica's change feed from the upstream systems (sync listener)."
    }
  ],
  "paths": {
    "/v1/eligibility": {
      "post": {
        "tags": [
          "Center API"
        ],
        "x-listener": "center",
        "operationId": "checkEligibility",
        "summary": "What the authenticated requester may obtain",
        "description": "Authenticates the card (signature, certificate path to the configured JPKI anchors, validity, key usage, certificate policy, revocation), maps the certificate to the requester through the replica's card bindings, checks freshness and the requestId rules, and lists the certificates the requester may obtain with the members of the requester's household that may appear on them (household order, restricted members left out without saying why). Decided from the replica only. An answered request is recorded for 24 h: the same requestId with a byte-identical payload signed by the same certificate returns the same answer while `issuedAt` is inside the freshness window.",
        "security": [
          {
            "centerClientCertificate": []
          }
        ],
        "requestBody": {
          "required": true,
          "description": "A JWS in compact serialization (RFC 7515) signed by the resident's マイナンバーカード with the private key of its 利用者証明用電子証明書 (RSA 2048, RS256). The three segments are base64url without padding. The protected header is `JWSProtectedHeader`; the payload, once decoded, is `EligibilityRequest` (I-JSON: no duplicate member names, nothing after the object; insignificant white space allowed). The signature covers the exact bytes transmitted. Payload: the common fields only.",
          "content": {
            "application/jose": {
              "schema": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$",
                "x-kofu-protected-header": {
                  "$ref": "#/components/schemas/JWSProtectedHeader"
                },
                "x-kofu-payload": {
                  "$ref": "#/components/schemas/EligibilityRequest"
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The requester's eligibility.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EligibilityResponse"
                }
              }
            }
          },
          "400": {
            "description": "Not a compact JWS, bad base64url, bad JSON, an `x5c` not holding exactly one certificate, a missing, unknown or invalid field; or a municipality not served here.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 400
                        },
                        "code": {
                          "enum": [
                            "MALFORMED_REQUEST",
                            "WRONG_MUNICIPALITY"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "401": {
            "description": "The card or the request could not be authenticated, or `issuedAt` is outside the freshness window.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 401
                        },
                        "code": {
                          "enum": [
                            "SIGNATURE_INVALID",
                            "CARD_CERT_UNTRUSTED",
                            "CARD_CERT_EXPIRED",
                            "CARD_CERT_REVOKED",
                            "REVOCATION_UNAVAILABLE",
                            "CARD_NOT_REGISTERED",
                            "REQUEST_EXPIRED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "403": {
            "description": "The requester may obtain nothing.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 403
                        },
                        "code": {
                          "enum": [
                            "REQUESTER_NOT_CURRENT",
                            "ISSUANCE_RESTRICTED",
                            "REQUESTER_UNDER_AGE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "409": {
            "description": "The requestId was used with another payload or another certificate.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 409
                        },
                        "code": {
                          "enum": [
                            "REQUEST_REPLAYED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "413": {
            "description": "The body is over 64 KiB (65,536 bytes); refused before it is parsed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 413
                        },
                        "code": {
                          "enum": [
                            "PAYLOAD_TOO_LARGE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "415": {
            "description": "The body is not `application/jose`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 415
                        },
                        "code": {
                          "enum": [
                            "UNSUPPORTED_MEDIA_TYPE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "500": {
            "description": "A fault of the server (for issuance, also the final re-check of every printed person failing); logged, never a certificate.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 500
                        },
                        "code": {
                          "enum": [
                            "INTERNAL_ERROR"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "503": {
            "description": "Outside the service hours, on a closed date, or issuance suspended by the operators.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 503
                        },
                        "code": {
                          "enum": [
                            "OUTSIDE_SERVICE_HOURS",
                            "SERVICE_SUSPENDED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          }
        }
      }
    },
    "/v1/issuances": {
      "post": {
        "tags": [
          "Center API"
        ],
        "x-listener": "center",
        "operationId": "issueCertificate",
        "summary": "Issue a 住民票の写し or a 印鑑登録証明書",
        "description": "Authenticates as for eligibility, authorizes (same household, restrictions, minimum age, service hours, inkan for the requester only with an active seal registration), renders the certificate from one consistent snapshot of the replica and answers it as a PDF holding one copy. Where several faults apply, the first in this order decides: 413, 415, 400 MALFORMED_REQUEST, 401 SIGNATURE_INVALID, 400 WRONG_MUNICIPALITY, 401 path, validity and revocation codes, 401 CARD_NOT_REGISTERED / 403 REQUESTER_NOT_CURRENT, 401 REQUEST_EXPIRED / 409 REQUEST_REPLAYED, 503, 422 OPTION_NOT_ALLOWED, 403 authorization codes, 422 SEAL_NOT_REGISTERED, 422 GAIJI_UNRENDERABLE. Idempotent: the same requestId with a byte-identical payload signed by the same certificate returns the same 交付番号 and the same PDF bytes and writes no second issuance record (a request arriving while the first is still handled waits for it).",
        "security": [
          {
            "centerClientCertificate": []
          }
        ],
        "requestBody": {
          "required": true,
          "description": "A JWS in compact serialization (RFC 7515) signed by the resident's マイナンバーカード with the private key of its 利用者証明用電子証明書 (RSA 2048, RS256). The three segments are base64url without padding. The protected header is `JWSProtectedHeader`; the payload, once decoded, is `IssuanceRequest` (I-JSON: no duplicate member names, nothing after the object; insignificant white space allowed). The signature covers the exact bytes transmitted. Payload: the common fields plus kind, scope, members, options and copies.",
          "content": {
            "application/jose": {
              "schema": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$",
                "x-kofu-protected-header": {
                  "$ref": "#/components/schemas/JWSProtectedHeader"
                },
                "x-kofu-payload": {
                  "$ref": "#/components/schemas/IssuanceRequest"
                }
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The certificate: a PDF holding one copy.",
            "headers": {
              "X-Issuance-Id": {
                "$ref": "#/components/headers/X-Issuance-Id"
              },
              "X-Page-Count": {
                "$ref": "#/components/headers/X-Page-Count"
              },
              "X-Copies": {
                "$ref": "#/components/headers/X-Copies"
              },
              "X-Content-SHA256": {
                "$ref": "#/components/headers/X-Content-SHA256"
              },
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/pdf": {
                "schema": {
                  "type": "string",
                  "contentMediaType": "application/pdf"
                }
              }
            }
          },
          "400": {
            "description": "Not a compact JWS, bad base64url, bad JSON, an `x5c` not holding exactly one certificate, a missing, unknown or invalid field (copies outside 1–10; a kind or scope not listed; an empty or duplicated `members`; `members` without scope `members`, or scope `members` without it); or a municipality not served here.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 400
                        },
                        "code": {
                          "enum": [
                            "MALFORMED_REQUEST",
                            "WRONG_MUNICIPALITY"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "401": {
            "description": "The card or the request could not be authenticated, or `issuedAt` is outside the freshness window.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 401
                        },
                        "code": {
                          "enum": [
                            "SIGNATURE_INVALID",
                            "CARD_CERT_UNTRUSTED",
                            "CARD_CERT_EXPIRED",
                            "CARD_CERT_REVOKED",
                            "REVOCATION_UNAVAILABLE",
                            "CARD_NOT_REGISTERED",
                            "REQUEST_EXPIRED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "403": {
            "description": "Not authorized; a restricted subject is never named.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 403
                        },
                        "code": {
                          "enum": [
                            "REQUESTER_NOT_CURRENT",
                            "NOT_SAME_HOUSEHOLD",
                            "SELF_ONLY",
                            "ISSUANCE_RESTRICTED",
                            "REQUESTER_UNDER_AGE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "409": {
            "description": "The requestId was used with another payload or another certificate.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 409
                        },
                        "code": {
                          "enum": [
                            "REQUEST_REPLAYED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "413": {
            "description": "The body is over 64 KiB (65,536 bytes); refused before it is parsed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 413
                        },
                        "code": {
                          "enum": [
                            "PAYLOAD_TOO_LARGE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "415": {
            "description": "The body is not `application/jose`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 415
                        },
                        "code": {
                          "enum": [
                            "UNSUPPORTED_MEDIA_TYPE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "422": {
            "description": "個人番号 or 住民票コード requested, or a juminhyo option with kind inkan; inkan without an active seal registration; or a character no configured font can draw (the kiosk sends the resident to the counter).",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 422
                        },
                        "code": {
                          "enum": [
                            "OPTION_NOT_ALLOWED",
                            "SEAL_NOT_REGISTERED",
                            "GAIJI_UNRENDERABLE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "500": {
            "description": "A fault of the server (for issuance, also the final re-check of every printed person failing); logged, never a certificate.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 500
                        },
                        "code": {
                          "enum": [
                            "INTERNAL_ERROR"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "503": {
            "description": "Outside the service hours, on a closed date, or issuance suspended by the operators.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 503
                        },
                        "code": {
                          "enum": [
                            "OUTSIDE_SERVICE_HOURS",
                            "SERVICE_SUSPENDED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          }
        }
      }
    },
    "/v1/issuances/{issuanceId}/outcome": {
      "parameters": [
        {
          "name": "issuanceId",
          "in": "path",
          "required": true,
          "description": "The 交付番号 (`X-Issuance-Id` of the 201). Any value that names no issuance, whatever its form, is 404 ISSUANCE_NOT_FOUND.",
          "schema": {
            "type": "string"
          }
        }
      ],
      "post": {
        "tags": [
          "Center API"
        ],
        "x-listener": "center",
        "operationId": "recordOutcome",
        "summary": "Record whether the center printed the certificate",
        "description": "Authenticated by the channel (mutual TLS), not by the card. The outcome is recorded once: the same outcome again is 200 with the same body, a different one 409. A `failed` outcome marks the issuance void in the audit log (no fee).",
        "security": [
          {
            "centerClientCertificate": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/OutcomeRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The issuance's final state.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/OutcomeResponse"
                }
              }
            }
          },
          "400": {
            "description": "Bad JSON, an unknown member, or an outcome value not listed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 400
                        },
                        "code": {
                          "enum": [
                            "MALFORMED_REQUEST"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "404": {
            "description": "No issuance has this 交付番号.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 404
                        },
                        "code": {
                          "enum": [
                            "ISSUANCE_NOT_FOUND"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "409": {
            "description": "A different outcome was already recorded.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 409
                        },
                        "code": {
                          "enum": [
                            "OUTCOME_CONFLICT"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "413": {
            "description": "The body is over 64 KiB (65,536 bytes); refused before it is parsed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 413
                        },
                        "code": {
                          "enum": [
                            "PAYLOAD_TOO_LARGE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "415": {
            "description": "The body is not `application/json`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 415
                        },
                        "code": {
                          "enum": [
                            "UNSUPPORTED_MEDIA_TYPE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "500": {
            "description": "A fault of the server (for issuance, also the final re-check of every printed person failing); logged, never a certificate.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 500
                        },
                        "code": {
                          "enum": [
                            "INTERNAL_ERROR"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          }
        }
      }
    },
    "/healthz": {
      "get": {
        "tags": [
          "Operations"
        ],
        "x-listener": "center",
        "operationId": "liveness",
        "summary": "Liveness",
        "description": "200 while the process serves requests, with or without a valid CRL.",
        "security": [
          {
            "centerClientCertificate": []
          }
        ],
        "responses": {
          "200": {
            "description": "Alive.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "tags": [
          "Operations"
        ],
        "x-listener": "center",
        "operationId": "readiness",
        "summary": "Readiness",
        "description": "200 when the replica, fonts, trust anchors and a currently valid CRL are loaded, regardless of service hours, closed dates or suspension; 503 otherwise.",
        "security": [
          {
            "centerClientCertificate": []
          }
        ],
        "responses": {
          "200": {
            "description": "Ready.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "503": {
            "description": "Not ready (for example no currently valid CRL yet): a problem document with code SERVICE_UNAVAILABLE.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "tags": [
          "Operations"
        ],
        "x-listener": "center",
        "operationId": "metrics",
        "summary": "Prometheus metrics",
        "description": "Prometheus text exposition format 0.0.4, at least: `kofu_requests_total{endpoint,code}`, the histogram `kofu_request_duration_seconds{endpoint}`, `kofu_issuances_total{kind=\"juminhyo\"|\"inkan\"}` (one per new 交付番号, replays not counted, both kinds present from the start at 0), `kofu_replica_last_seq`, `kofu_replica_age_seconds`, `kofu_crl_age_seconds{issuer}`. Names no resident.",
        "security": [
          {
            "centerClientCertificate": []
          }
        ],
        "responses": {
          "200": {
            "description": "The metrics.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "text/plain; version=0.0.4": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "tags": [
          "Operations"
        ],
        "x-listener": "center",
        "operationId": "openAPIDocument",
        "summary": "This document",
        "security": [
          {
            "centerClientCertificate": []
          }
        ],
        "responses": {
          "200": {
            "description": "The OpenAPI 3.1 document of both listeners.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/v1/sync/batches": {
      "servers": [
        {
          "url": "https://{host}:{port}",
          "description": "Sync listener (`[listen] sync`): mutual TLS with the upstream's CA (`[tls] sync_client_ca`), never the center's. Development mode without `[tls]`: plain HTTP on a loopback address only.",
          "variables": {
            "host": {
              "default": "127.0.0.1"
            },
            "port": {
              "default": "8444"
            }
          }
        }
      ],
      "post": {
        "tags": [
          "Sync feed"
        ],
        "x-listener": "sync",
        "operationId": "applySyncBatch",
        "summary": "Apply a batch of change-feed events",
        "description": "Applied atomically: all of it or none. `seq` increases by exactly 1 from event to event across the whole feed; events at or below the replica's last seq are skipped (a resent batch is harmless). Every event is validated in full before its version is compared. Answered after the batch is durable.",
        "security": [
          {
            "upstreamClientCertificate": []
          }
        ],
        "requestBody": {
          "required": true,
          "description": "At most 64 MiB and 10,000 events.",
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SyncBatch"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The batch is committed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SyncBatchResult"
                }
              }
            }
          },
          "400": {
            "description": "Not JSON, or not an object `{\"events\": […]}`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 400
                        },
                        "code": {
                          "enum": [
                            "MALFORMED_REQUEST"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "409": {
            "description": "The batch's first new event is not last seq + 1; `expected` says which seq is.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 409
                        },
                        "code": {
                          "enum": [
                            "SEQUENCE_GAP"
                          ]
                        }
                      },
                      "required": [
                        "expected"
                      ]
                    }
                  ]
                }
              }
            }
          },
          "413": {
            "description": "A body over 64 MiB (refused before parsing) or more than 10,000 events (after parsing).",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 413
                        },
                        "code": {
                          "enum": [
                            "PAYLOAD_TOO_LARGE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "415": {
            "description": "The body is not `application/json`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 415
                        },
                        "code": {
                          "enum": [
                            "UNSUPPORTED_MEDIA_TYPE"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "422": {
            "description": "An event is invalid (including a gap in `seq` inside the batch, field `seq`, or an event naming a resident neither in the replica nor upserted earlier in the batch); nothing of the batch was applied. `index`, `seq` and `field` locate it.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 422
                        },
                        "code": {
                          "enum": [
                            "INVALID_EVENT"
                          ]
                        }
                      },
                      "required": [
                        "index",
                        "field"
                      ]
                    }
                  ]
                }
              }
            }
          },
          "500": {
            "description": "A fault of the server; nothing of the batch was applied.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 500
                        },
                        "code": {
                          "enum": [
                            "INTERNAL_ERROR"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "503": {
            "description": "A reseed is switching the replica; retry later.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 503
                        },
                        "code": {
                          "enum": [
                            "SERVICE_SUSPENDED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          }
        }
      }
    },
    "/v1/sync/status": {
      "servers": [
        {
          "url": "https://{host}:{port}",
          "description": "Sync listener (`[listen] sync`): mutual TLS with the upstream's CA (`[tls] sync_client_ca`), never the center's. Development mode without `[tls]`: plain HTTP on a loopback address only.",
          "variables": {
            "host": {
              "default": "127.0.0.1"
            },
            "port": {
              "default": "8444"
            }
          }
        }
      ],
      "get": {
        "tags": [
          "Sync feed"
        ],
        "x-listener": "sync",
        "operationId": "syncStatus",
        "summary": "The replica's position and counts",
        "description": "Counts only, no personal data. They change only when a batch commits or a reseed switches.",
        "security": [
          {
            "upstreamClientCertificate": []
          }
        ],
        "responses": {
          "200": {
            "description": "The replica's state.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SyncStatus"
                }
              }
            }
          },
          "500": {
            "description": "A fault of the server; nothing of the batch was applied.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 500
                        },
                        "code": {
                          "enum": [
                            "INTERNAL_ERROR"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          },
          "503": {
            "description": "A reseed is switching the replica; retry later.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/X-Request-Id"
              }
            },
            "content": {
              "application/problem+json": {
                "schema": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Problem"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "status": {
                          "const": 503
                        },
                        "code": {
                          "enum": [
                            "SERVICE_SUSPENDED"
                          ]
                        }
                      }
                    }
                  ]
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "ErrorCode": {
        "type": "string",
        "description": "The stable error codes. NOT_FOUND (a path the listener does not serve), METHOD_NOT_ALLOWED and INTERNAL_ERROR are this server's own codes for cases the interface specification leaves open.",
        "enum": [
          "MALFORMED_REQUEST",
          "WRONG_MUNICIPALITY",
          "SIGNATURE_INVALID",
          "CARD_CERT_UNTRUSTED",
          "CARD_CERT_EXPIRED",
          "CARD_CERT_REVOKED",
          "REVOCATION_UNAVAILABLE",
          "CARD_NOT_REGISTERED",
          "REQUEST_EXPIRED",
          "REQUESTER_NOT_CURRENT",
          "NOT_SAME_HOUSEHOLD",
          "SELF_ONLY",
          "ISSUANCE_RESTRICTED",
          "REQUESTER_UNDER_AGE",
          "REQUEST_REPLAYED",
          "OUTCOME_CONFLICT",
          "ISSUANCE_NOT_FOUND",
          "PAYLOAD_TOO_LARGE",
          "UNSUPPORTED_MEDIA_TYPE",
          "OPTION_NOT_ALLOWED",
          "SEAL_NOT_REGISTERED",
          "GAIJI_UNRENDERABLE",
          "OUTSIDE_SERVICE_HOURS",
          "SERVICE_SUSPENDED",
          "SEQUENCE_GAP",
          "INVALID_EVENT",
          "NOT_FOUND",
          "METHOD_NOT_ALLOWED",
          "INTERNAL_ERROR",
          "SERVICE_UNAVAILABLE"
        ]
      },
      "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details. None of the six required members is null or empty; `requestId` equals the response's X-Request-Id. Never contains personal data.",
        "additionalProperties": false,
        "required": [
          "type",
          "title",
          "status",
          "code",
          "kioskMessage",
          "requestId"
        ],
        "properties": {
          "type": {
            "type": "string",
            "minLength": 1,
            "format": "uri-reference"
          },
          "title": {
            "type": "string",
            "minLength": 1
          },
          "status": {
            "type": "integer",
            "enum": [
              400,
              401,
              403,
              404,
              405,
              409,
              413,
              415,
              422,
              500,
              503
            ]
          },
          "code": {
            "$ref": "#/components/schemas/ErrorCode"
          },
          "kioskMessage": {
            "type": "string",
            "minLength": 1,
            "description": "Short Japanese text a kiosk can show (fixed text on the sync listener).",
            "examples": [
              "お取り扱いできません。市役所の窓口にお問い合わせください。"
            ]
          },
          "requestId": {
            "type": "string",
            "minLength": 1,
            "description": "The request's requestId where the payload was decoded, otherwise a server-generated UUID."
          },
          "expected": {
            "type": "integer",
            "minimum": 1,
            "description": "SEQUENCE_GAP only: the seq the next batch must start with (last seq + 1)."
          },
          "index": {
            "type": "integer",
            "minimum": 0,
            "description": "INVALID_EVENT only: the event's 0-based position in `events`."
          },
          "seq": {
            "type": ["integer", "null"],
            "minimum": 1,
            "description": "INVALID_EVENT only: the event's seq; null where it could not be read (the event is not an object or its seq is not valid, or the string content of a field broke the JSON itself: a lone surrogate escape, a raw control character)."
          },
          "field": {
            "type": "string",
            "description": "INVALID_EVENT only: the faulty field as a dotted path (`resident.birthDate`, `seal.impression.png`)."
          },
          "detail": {
            "type": "string",
            "description": "Sync listener and readiness only: what was refused, in English, for the upstream's operators (never personal data)."
          }
        }
      },
      "JWSProtectedHeader": {
        "type": "object",
        "description": "The JWS protected header (I-JSON). Intermediate and root certificates come from the server's configuration, never from the request. kofu accepts exactly these three members: any other is 400 MALFORMED_REQUEST.",
        "additionalProperties": false,
        "required": [
          "alg",
          "typ",
          "x5c"
        ],
        "properties": {
          "alg": {
            "const": "RS256",
            "description": "Anything else, `none` included, is 401 SIGNATURE_INVALID."
          },
          "typ": {
            "const": "kofu-request"
          },
          "x5c": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "description": "Exactly one certificate, the card's; otherwise 400 MALFORMED_REQUEST.",
            "items": {
              "type": "string",
              "contentEncoding": "base64",
              "contentMediaType": "application/pkix-cert"
            }
          }
        }
      },
      "Terminal": {
        "type": "object",
        "description": "The kiosk, for the audit log.",
        "additionalProperties": false,
        "required": [
          "terminalId",
          "storeCode"
        ],
        "properties": {
          "terminalId": {
            "type": "string",
            "minLength": 1,
            "maxLength": 32
          },
          "storeCode": {
            "type": "string",
            "minLength": 1,
            "maxLength": 32
          }
        }
      },
      "RequestId": {
        "type": "string",
        "format": "uuid",
        "description": "Unique per request; the idempotency key. Names one request to one endpoint."
      },
      "IssuedAt": {
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339 timestamp with offset: when the kiosk built the request. Must be within ±`[trust] clock_skew_seconds` (default 300) of the server's clock, otherwise 401 REQUEST_EXPIRED."
      },
      "Municipality": {
        "type": "string",
        "pattern": "^[0-9]{6}$",
        "description": "全国地方公共団体コード with check digit; must equal the server's `[municipality] code`, otherwise 400 WRONG_MUNICIPALITY."
      },
      "EligibilityRequest": {
        "type": "object",
        "description": "The decoded JWS payload of POST /v1/eligibility. Unknown members are refused (400) at every level.",
        "additionalProperties": false,
        "required": [
          "requestId",
          "issuedAt",
          "municipality",
          "terminal"
        ],
        "properties": {
          "requestId": {
            "$ref": "#/components/schemas/RequestId"
          },
          "issuedAt": {
            "$ref": "#/components/schemas/IssuedAt"
          },
          "municipality": {
            "$ref": "#/components/schemas/Municipality"
          },
          "terminal": {
            "$ref": "#/components/schemas/Terminal"
          }
        }
      },
      "IssuanceOptions": {
        "type": "object",
        "description": "juminhyo only; each a boolean, default false. Any juminhyo option sent with kind inkan is 422 OPTION_NOT_ALLOWED; any other unknown key is 400 MALFORMED_REQUEST.",
        "additionalProperties": false,
        "properties": {
          "domicile": {
            "type": "boolean",
            "default": false,
            "description": "本籍・筆頭者; never printed for a 外国人住民."
          },
          "relationship": {
            "type": "boolean",
            "default": false,
            "description": "続柄."
          },
          "foreignResidentItems": {
            "type": "boolean",
            "default": false,
            "description": "国籍・地域, 在留資格 等 for 外国人住民; printed only with this option."
          },
          "individualNumber": {
            "not": {},
            "description": "A request to print 個人番号: whatever its value, 422 OPTION_NOT_ALLOWED (this server holds no 個人番号)."
          },
          "residentCode": {
            "not": {},
            "description": "A request to print 住民票コード: whatever its value, 422 OPTION_NOT_ALLOWED (never printed)."
          }
        }
      },
      "IssuanceRequest": {
        "type": "object",
        "description": "The decoded JWS payload of POST /v1/issuances. Unknown members are refused (400) at every level, `terminal` and `options` included.",
        "additionalProperties": false,
        "required": [
          "requestId",
          "issuedAt",
          "municipality",
          "terminal",
          "kind",
          "scope",
          "copies"
        ],
        "properties": {
          "requestId": {
            "$ref": "#/components/schemas/RequestId"
          },
          "issuedAt": {
            "$ref": "#/components/schemas/IssuedAt"
          },
          "municipality": {
            "$ref": "#/components/schemas/Municipality"
          },
          "terminal": {
            "$ref": "#/components/schemas/Terminal"
          },
          "kind": {
            "type": "string",
            "enum": [
              "juminhyo",
              "inkan"
            ],
            "description": "住民票の写し or 印鑑登録証明書."
          },
          "scope": {
            "type": "string",
            "enum": [
              "self",
              "household",
              "members"
            ],
            "description": "juminhyo: the requester alone, the whole household (restricted members included, hence 403 ISSUANCE_RESTRICTED if any), or the listed members. inkan: `self` only (anything else is 403 SELF_ONLY)."
          },
          "members": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": true,
            "description": "memberIds from eligibility, compared as exact strings; required with scope `members` and refused otherwise. A string that is not the memberId of a current member of the requester's household is 403 NOT_SAME_HOUSEHOLD.",
            "items": {
              "type": "string"
            }
          },
          "options": {
            "$ref": "#/components/schemas/IssuanceOptions"
          },
          "copies": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10,
            "description": "Copies the center prints; the PDF holds one copy; recorded for the fee."
          }
        },
        "if": {
          "properties": {
            "scope": {
              "const": "members"
            }
          },
          "required": [
            "scope"
          ]
        },
        "then": {
          "required": [
            "members"
          ]
        },
        "else": {
          "not": {
            "required": [
              "members"
            ]
          }
        }
      },
      "EligibleMember": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "memberId",
          "displayName",
          "relationship",
          "self"
        ],
        "properties": {
          "memberId": {
            "type": "string",
            "description": "Opaque and stable (the same for every requester, across requests, restarts and reseeds); never reveals the 住民票コード."
          },
          "displayName": {
            "type": "string",
            "description": "The member's name exactly as stored."
          },
          "relationship": {
            "type": "string",
            "description": "世帯主との続柄 as printed."
          },
          "self": {
            "type": "boolean",
            "description": "Whether this member is the requester."
          }
        }
      },
      "CertificateAvailability": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "kind",
          "available"
        ],
        "properties": {
          "kind": {
            "type": "string",
            "enum": [
              "juminhyo",
              "inkan"
            ]
          },
          "available": {
            "type": "boolean"
          },
          "members": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/EligibleMember"
            },
            "description": "juminhyo, when available: the current members of the requester's household in household order (世帯主 first), restricted members left out."
          },
          "reason": {
            "allOf": [
              {
                "$ref": "#/components/schemas/ErrorCode"
              }
            ],
            "description": "When not available: why, as an error code (e.g. SEAL_NOT_REGISTERED)."
          }
        }
      },
      "EligibilityResponse": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "requestId",
          "certificates"
        ],
        "properties": {
          "requestId": {
            "$ref": "#/components/schemas/RequestId"
          },
          "certificates": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/CertificateAvailability"
            }
          }
        }
      },
      "OutcomeRequest": {
        "description": "Unknown members or another outcome value are 400 MALFORMED_REQUEST.",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "outcome"
            ],
            "properties": {
              "outcome": {
                "const": "printed"
              }
            }
          },
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "outcome"
            ],
            "properties": {
              "outcome": {
                "const": "failed"
              },
              "detail": {
                "type": "string",
                "description": "Why printing failed, for the operators."
              }
            }
          }
        ]
      },
      "OutcomeResponse": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "issuanceId",
          "outcome",
          "recordedAt"
        ],
        "properties": {
          "issuanceId": {
            "type": "string",
            "pattern": "^[A-Za-z0-9]+$"
          },
          "outcome": {
            "type": "string",
            "enum": [
              "printed",
              "failed"
            ]
          },
          "recordedAt": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "Resident": {
        "type": "object",
        "description": "A resident record. Text is stored exactly as received (never normalised or trimmed); a text field is refused when empty, containing a C0 or C1 control character, a lone surrogate escape or a noncharacter, or over its limit in Unicode scalars. The format has no field for 個人番号.",
        "additionalProperties": false,
        "required": [
          "juminhyoCode",
          "householdId",
          "householdOrder",
          "householdHeadName",
          "name",
          "nameKana",
          "birthDate",
          "sex",
          "relationship",
          "address",
          "becameResidentOn",
          "addressSetOn",
          "addressNotifiedOn",
          "version"
        ],
        "properties": {
          "juminhyoCode": {
            "type": "string",
            "pattern": "^[0-9]{11}$",
            "description": "住民票コード, 11 digits. Never printed and never in a response."
          },
          "householdId": {
            "type": "string",
            "pattern": "^[A-Za-z0-9]{1,20}$",
            "description": "世帯番号."
          },
          "householdOrder": {
            "type": "integer",
            "minimum": 1,
            "description": "出力順位 within the household."
          },
          "householdHeadName": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "世帯主の氏名 as printed."
          },
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "氏名."
          },
          "nameKana": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "氏名 (カナ)."
          },
          "formerSurname": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "旧氏, printed beside the name."
          },
          "alias": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "通称 (外国人住民), printed beside the name."
          },
          "birthDate": {
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "YYYY-MM-DD, Gregorian, 1873-01-01 or later."
          },
          "sex": {
            "type": "string",
            "enum": [
              "男",
              "女"
            ]
          },
          "relationship": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "世帯主との続柄 as printed."
          },
          "address": {
            "type": "string",
            "minLength": 1,
            "maxLength": 160,
            "description": "住所."
          },
          "katagaki": {
            "type": "string",
            "minLength": 1,
            "maxLength": 160,
            "description": "方書."
          },
          "becameResidentOn": {
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "YYYY-MM-DD, Gregorian, 1873-01-01 or later."
          },
          "addressSetOn": {
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "YYYY-MM-DD, Gregorian, 1873-01-01 or later."
          },
          "addressNotifiedOn": {
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "YYYY-MM-DD, Gregorian, 1873-01-01 or later."
          },
          "previousAddress": {
            "type": "string",
            "minLength": 1,
            "maxLength": 160,
            "description": "従前の住所."
          },
          "domicile": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "address",
              "head"
            ],
            "description": "本籍 and 筆頭者; absent for 外国人住民.",
            "properties": {
              "address": {
                "type": "string",
                "minLength": 1,
                "maxLength": 160,
                "description": "本籍."
              },
              "head": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "description": "筆頭者."
              }
            }
          },
          "foreignResident": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "nationality",
              "category",
              "status",
              "periodOfStay",
              "expiresOn"
            ],
            "properties": {
              "nationality": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "国籍・地域."
              },
              "category": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "第30条の45に規定する区分."
              },
              "status": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "在留資格."
              },
              "periodOfStay": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "在留期間."
              },
              "expiresOn": {
                "type": "string",
                "format": "date",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "description": "YYYY-MM-DD, Gregorian, 1873-01-01 or later."
              }
            }
          },
          "version": {
            "type": "integer",
            "minimum": 1,
            "description": "版数: an upsert with a version equal to or higher than the stored one replaces the record; a lower one is stale (counted as applied, changes nothing)."
          }
        },
        "not": {
          "required": [
            "domicile",
            "foreignResident"
          ]
        }
      },
      "Seal": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "juminhyoCode",
          "registrationNumber",
          "registeredOn",
          "impression"
        ],
        "properties": {
          "juminhyoCode": {
            "type": "string",
            "pattern": "^[0-9]{11}$",
            "description": "住民票コード, 11 digits. Never printed and never in a response."
          },
          "registrationNumber": {
            "type": "string",
            "pattern": "^[A-Za-z0-9]{1,20}$"
          },
          "registeredOn": {
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "YYYY-MM-DD, Gregorian, 1873-01-01 or later."
          },
          "impression": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "png",
              "widthMm",
              "heightMm"
            ],
            "properties": {
              "png": {
                "type": "string",
                "contentEncoding": "base64",
                "contentMediaType": "image/png",
                "description": "A PNG (8-bit gray or RGB, with or without alpha) of at most 512 KiB."
              },
              "widthMm": {
                "type": "number",
                "minimum": 8,
                "maximum": 25,
                "description": "Printed width in millimetres."
              },
              "heightMm": {
                "type": "number",
                "minimum": 8,
                "maximum": 25,
                "description": "Printed height in millimetres."
              }
            }
          }
        }
      },
      "Card": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "juminhyoCode",
          "certSha256"
        ],
        "description": "Binds one card certificate to one resident (a certificate bound to another resident is an invalid event).",
        "properties": {
          "juminhyoCode": {
            "type": "string",
            "pattern": "^[0-9]{11}$",
            "description": "住民票コード, 11 digits. Never printed and never in a response."
          },
          "certSha256": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "Lowercase hex SHA-256 of the certificate's DER."
          }
        }
      },
      "Restriction": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "juminhyoCode",
          "kind"
        ],
        "properties": {
          "juminhyoCode": {
            "type": "string",
            "pattern": "^[0-9]{11}$",
            "description": "住民票コード, 11 digits. Never printed and never in a response."
          },
          "kind": {
            "type": "string",
            "enum": [
              "support-measure",
              "issuance-control"
            ],
            "description": "支援措置 or 発行制御."
          }
        }
      },
      "SyncEvent": {
        "description": "One change-feed event. An event naming a resident neither in the replica nor upserted earlier in the same batch is invalid.",
        "oneOf": [
          {
            "type": "object",
            "description": "Insert or replace a resident; also restores a logically deleted one with its bindings, seal and restrictions.",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "resident"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "resident.upsert"
              },
              "resident": {
                "$ref": "#/components/schemas/Resident"
              }
            }
          },
          {
            "type": "object",
            "description": "Logical deletion: invisible to every request from the commit on; physically removed at the next reseed.",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "juminhyoCode",
              "reason",
              "effectiveOn"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "resident.delete"
              },
              "juminhyoCode": {
                "type": "string",
                "pattern": "^[0-9]{11}$",
                "description": "住民票コード, 11 digits. Never printed and never in a response."
              },
              "reason": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "転出, 死亡, 職権消除 …"
              },
              "effectiveOn": {
                "type": "string",
                "format": "date",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "description": "YYYY-MM-DD, Gregorian, 1873-01-01 or later."
              }
            }
          },
          {
            "type": "object",
            "description": "Register (or replace) a seal.",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "seal"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "seal.register"
              },
              "seal": {
                "$ref": "#/components/schemas/Seal"
              }
            }
          },
          {
            "type": "object",
            "description": "Abolish the seal registration (logical deletion).",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "juminhyoCode"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "seal.abolish"
              },
              "juminhyoCode": {
                "type": "string",
                "pattern": "^[0-9]{11}$",
                "description": "住民票コード, 11 digits. Never printed and never in a response."
              }
            }
          },
          {
            "type": "object",
            "description": "Bind a card certificate.",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "card"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "card.bind"
              },
              "card": {
                "$ref": "#/components/schemas/Card"
              }
            }
          },
          {
            "type": "object",
            "description": "Unbind a card certificate.",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "card"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "card.unbind"
              },
              "card": {
                "$ref": "#/components/schemas/Card"
              }
            }
          },
          {
            "type": "object",
            "description": "Set a restriction.",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "restriction"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "restriction.set"
              },
              "restriction": {
                "$ref": "#/components/schemas/Restriction"
              }
            }
          },
          {
            "type": "object",
            "description": "Clear a restriction.",
            "additionalProperties": false,
            "required": [
              "seq",
              "type",
              "restriction"
            ],
            "properties": {
              "seq": {
                "type": "integer",
                "minimum": 1
              },
              "type": {
                "const": "restriction.clear"
              },
              "restriction": {
                "$ref": "#/components/schemas/Restriction"
              }
            }
          }
        ]
      },
      "SyncBatch": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "events"
        ],
        "properties": {
          "events": {
            "type": "array",
            "maxItems": 10000,
            "items": {
              "$ref": "#/components/schemas/SyncEvent"
            },
            "description": "seq increases by exactly 1 from event to event. More than 10,000 events is 413 PAYLOAD_TOO_LARGE."
          }
        }
      },
      "SyncBatchResult": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "applied",
          "skipped",
          "lastSeq"
        ],
        "properties": {
          "applied": {
            "type": "integer",
            "minimum": 0,
            "description": "Events applied (stale upserts included)."
          },
          "skipped": {
            "type": "integer",
            "minimum": 0,
            "description": "Events at or below the last seq, skipped."
          },
          "lastSeq": {
            "type": "integer",
            "minimum": 0,
            "description": "The replica's last applied seq after the commit."
          }
        }
      },
      "SyncStatus": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "lastSeq",
          "residents",
          "households",
          "seals",
          "cards",
          "restrictions",
          "logicallyDeleted",
          "lastAppliedAt",
          "reseededAt"
        ],
        "properties": {
          "lastSeq": {
            "type": "integer",
            "minimum": 0
          },
          "residents": {
            "type": "integer",
            "minimum": 0,
            "description": "Residents not logically deleted."
          },
          "households": {
            "type": "integer",
            "minimum": 0,
            "description": "Their distinct householdIds."
          },
          "seals": {
            "type": "integer",
            "minimum": 0,
            "description": "Active seal registrations."
          },
          "cards": {
            "type": "integer",
            "minimum": 0,
            "description": "Card bindings."
          },
          "restrictions": {
            "type": "integer",
            "minimum": 0,
            "description": "(resident, kind) entries."
          },
          "logicallyDeleted": {
            "type": "integer",
            "minimum": 0,
            "description": "Logically deleted residents."
          },
          "lastAppliedAt": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time",
            "description": "When the last batch committed."
          },
          "reseededAt": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time",
            "description": "When the last reseed switched."
          }
        }
      }
    },
    "headers": {
      "X-Request-Id": {
        "description": "On every response: the request's requestId where the payload was decoded (even if a later check failed), otherwise a server-generated UUID.",
        "required": true,
        "schema": {
          "type": "string",
          "minLength": 1
        }
      },
      "X-Issuance-Id": {
        "description": "The 交付番号 printed on the certificate: ASCII letters and digits, not enumerable.",
        "required": true,
        "schema": {
          "type": "string",
          "pattern": "^[A-Za-z0-9]+$"
        }
      },
      "X-Page-Count": {
        "description": "The PDF's pages.",
        "required": true,
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "X-Copies": {
        "description": "The copies requested (the PDF holds one).",
        "required": true,
        "schema": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10
        }
      },
      "X-Content-SHA256": {
        "description": "Lowercase hex SHA-256 of the body.",
        "required": true,
        "schema": {
          "type": "string",
          "pattern": "^[0-9a-f]{64}$"
        }
      }
    },
    "securitySchemes": {
      "centerClientCertificate": {
        "type": "mutualTLS",
        "description": "A client certificate issued by `[tls] center_client_ca`; any other client is refused in the TLS handshake."
      },
      "upstreamClientCertificate": {
        "type": "mutualTLS",
        "description": "A client certificate issued by `[tls] sync_client_ca` (the upstream's CA, never the center's)."
      }
    }
  }
}
"""#
}
