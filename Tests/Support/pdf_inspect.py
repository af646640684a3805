#!/usr/bin/python3
"""Reads a PDF the way a checker would, independently of kofu's own code: qpdf decodes it to
JSON, fontTools reads the embedded font programs. Prints one JSON object:

  pages: number of pages
  fonts: per Type0 font: baseFont, descendant BaseFont, glyphCount of the embedded subset,
         cids: [{cid, text (code points), gid, outline}] where outline is a hash of the glyph's
         contours in the embedded program
  images: per placement: page, name, widthPt, heightPt (from the `cm` before `Do`)

With --outline FONT GID [GID…]: prints the outline hashes of those glyphs of FONT instead, so
that a test can compare an embedded glyph with the base font's glyph by id.
"""
import base64, hashlib, io, json, re, subprocess, sys
from fontTools.ttLib import TTFont


def outline_hash(font, glyph_name):
    glyf = font["glyf"]
    g = glyf[glyph_name]
    h = hashlib.sha256()
    if g.numberOfContours > 0:
        coords, ends, flags = g.getCoordinates(glyf)
        h.update(json.dumps([list(map(list, coords)), list(ends), [f & 1 for f in flags]]).encode())
    elif g.isComposite():
        h.update(b"composite")
    else:
        h.update(b"empty")
    return h.hexdigest()


def main():
    if sys.argv[1] == "--outline":
        font = TTFont(sys.argv[2], lazy=True)
        order = font.getGlyphOrder()
        print(json.dumps({gid: outline_hash(font, order[int(gid)]) for gid in sys.argv[3:]}))
        return
    path = sys.argv[1]
    data = json.loads(subprocess.run(
        ["qpdf", "--json", "--json-stream-data=inline", "--decode-level=generalized", path],
        check=True, capture_output=True).stdout)
    objects = data["qpdf"][1]
    def obj(ref):
        return objects["obj:" + ref]
    def value(o):
        return o.get("value", o.get("stream", {}).get("dict"))
    def stream(ref):
        return base64.b64decode(obj(ref)["stream"]["data"])

    fonts = []
    images = []
    pages = [k for k, o in objects.items() if isinstance(value(o), dict) and value(o).get("/Type") == "/Page"]
    for key, o in objects.items():
        v = value(o)
        if not isinstance(v, dict) or v.get("/Subtype") != "/Type0":
            continue
        cid_font = value(obj(v["/DescendantFonts"][0]))
        descriptor = value(obj(cid_font["/FontDescriptor"]))
        program = TTFont(io.BytesIO(stream(descriptor["/FontFile2"])))
        order = program.getGlyphOrder()
        cid_to_gid = stream(cid_font["/CIDToGIDMap"])
        cmap = stream(v["/ToUnicode"]).decode("latin-1")
        cids = []
        bfchar = "".join(re.findall(r"beginbfchar\n(.*?)endbfchar", cmap, re.S))
        for m in re.finditer(r"<([0-9A-F]{4})> <([0-9A-F]+)>", bfchar):
            cid = int(m.group(1), 16)
            text = bytes.fromhex(m.group(2)).decode("utf-16-be")
            gid = int.from_bytes(cid_to_gid[2 * cid:2 * cid + 2], "big")
            cids.append({"cid": cid, "text": ["U+%04X" % ord(c) for c in text], "gid": gid,
                         "outline": outline_hash(program, order[gid])})
        fonts.append({"baseFont": v["/BaseFont"][1:], "descendant": cid_font["/BaseFont"][1:],
                      "glyphCount": len(order), "cids": cids})
    for number, page_key in enumerate(sorted(pages, key=lambda k: int(k.split(":")[1].split()[0]))):
        page = value(objects[page_key])
        content = stream(page["/Contents"]).decode("latin-1")
        for m in re.finditer(r"([-\d.]+) 0 0 ([-\d.]+) [-\d.]+ [-\d.]+ cm /(Im\d+) Do", content):
            images.append({"page": number + 1, "name": m.group(3),
                           "widthPt": float(m.group(1)), "heightPt": float(m.group(2))})
    print(json.dumps({"pages": len(pages), "fonts": fonts, "images": images}, ensure_ascii=False))


main()
