/*
 * envelope_rec.c — the record of a rejected line (--errors; envelope.h).
 * A file of its own so that every tool's reading loop, which writes these
 * records, does not link the UUID code and with it libcrypto and libuuid
 * (loading them costs each run about 3 million instructions).
 */
#include "envelope.h"
#include "jwrite.h"

/* ---- rejected lines (--errors) ------------------------------------ */

void env_error_record(struct buf *out, const char *file, int by_offset, uint64_t pos,
                      const char *reason, const char *line, size_t len)
{
	buf_adds(out, "{\"file\":");
	jw_cstring(out, file);
	buf_adds(out, by_offset ? ",\"offset\":" : ",\"line\":");
	jw_uint(out, pos);
	buf_adds(out, ",\"error\":");
	jw_cstring(out, reason);
	if (utf8_valid(line, len)) {
		buf_adds(out, ",\"raw\":");
		jw_string(out, line, len);
	} else {
		buf_adds(out, ",\"raw_base64\":\"");
		jw_base64(out, line, len);
		buf_addc(out, '"');
	}
	buf_adds(out, "}\n");
}
