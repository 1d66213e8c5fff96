/*
 * jload.h — the JSON documents a tool is given (rules files, schemas,
 * pattern and saga files, command maps), loaded with jansson.
 *
 * Events never come through here: they are read by our own scanner
 * (json.h), which keeps every value's bytes.  Option files are small,
 * multi-line and written by people, so what matters is a precise error:
 * "FILE:LINE:COLUMN: what is wrong".  Duplicate keys are rejected, as on
 * the event path; a UTF-8 BOM at the start is skipped.
 */
#ifndef JLOAD_H
#define JLOAD_H

#include <stddef.h>

#include <jansson.h>

/* The document in path, or NULL with err set to "PATH:LINE:COL: reason"
 * (or "PATH: strerror" when it cannot be read). */
json_t *jload_file(const char *path, char *err, size_t errlen);

#endif
