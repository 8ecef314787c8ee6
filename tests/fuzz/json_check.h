/*
 * json_check.h -- a strict RFC 8259 syntax check for the profile writer's
 * fuzz target: what tf_profile_write() emits must parse as one JSON value
 * (Python's json module reads it), and be ASCII (json.c escapes every other
 * byte).  A checker, not a parser: nothing is kept.
 */
#ifndef TF_JSON_CHECK_H
#define TF_JSON_CHECK_H

#include <stddef.h>

/* 0 when [text, text+len) is one JSON value with only whitespace around it,
   else the offset (+1) of the first byte that breaks the grammar. */
size_t tf_json_check(const char *text, size_t len);

#endif
