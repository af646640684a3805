#include <zlib.h>

/* deflateInit/inflateInit are macros over the *_ functions; Swift does not import macros. */
static inline int kofu_deflateInit2(z_streamp strm, int level, int method, int windowBits,
                                    int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}
static inline int kofu_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
