/*
 * Text from a protocol script or a session file reaches the operator's
 * terminal (section titles, instructions, log lines, error messages) and
 * files (UTF-8 strings). An escape sequence could clear the screen or
 * rewrite what the operator reads, and bytes that are not UTF-8 make a
 * file's strings unreadable for h5py; so names are checked where they come
 * in and free text is made printable on its way out.
 */
#include <stdbool.h>
#include <stddef.h>

#include "qst_core.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2
		 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (n == 0 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

static bool is_control(unsigned char c, bool allow_layout)
{
	if (allow_layout && (c == '\t' || c == '\n'))
		return false;
	return c < 0x20 || c == 0x7f;
}

const char *qst_text_problem(const char *s, size_t len, bool allow_layout)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		if (is_control(u[i], allow_layout))
			return u[i] ? "a control character" : "a NUL byte";
		size_t n = utf8_len(u + i, len - i);
		if (n == 0)
			return "bytes that are not UTF-8";
		i += n;
	}
	return NULL;
}

void qst_text_sanitize(char *s, bool allow_layout)
{
	unsigned char *u = (unsigned char *)s;
	size_t len = 0;
	while (u[len])
		len++;
	for (size_t i = 0; i < len;) {
		size_t n = is_control(u[i], allow_layout) ? 0
			 : utf8_len(u + i, len - i);
		if (n == 0) {
			u[i] = '?';
			n = 1;
		}
		i += n;
	}
}
