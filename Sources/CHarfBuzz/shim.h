#include <harfbuzz/hb.h>
#include <harfbuzz/hb-ot.h>
#include <harfbuzz/hb-subset.h>

/* HB_TAG is a macro, which Swift does not import. */
static inline hb_tag_t kofu_hb_tag(char a, char b, char c, char d) {
    return HB_TAG(a, b, c, d);
}
