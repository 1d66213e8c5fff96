/* jload.c — JSON documents the tools load, through jansson (see jload.h). */
#include "jload.h"
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

json_t *jload_file(const char *path, char *err, size_t errlen)
{
	struct buf b = {0};
	if (buf_read_file(&b, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	const char *p = b.p ? b.p : "";
	size_t len = b.len;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		len -= 3;
	}
	json_error_t je;
	json_t *doc = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	buf_free(&b);
	return doc;
}
