/*
 * Error codes as text (qst_core.h). The names are recorded in session
 * files, so they must match the enum spelling exactly.
 */
#include "qst_core.h"

struct err_text {
	int code;
	const char *name;
	const char *text;
};

static const struct err_text err_table[] = {
	{ QST_OK, "QST_OK", "no error" },
	{ QST_ERR, "QST_ERR", "unspecified failure" },
	{ QST_ERR_ARG, "QST_ERR_ARG", "invalid argument" },
	{ QST_ERR_NOMEM, "QST_ERR_NOMEM", "out of memory" },
	{ QST_ERR_IO, "QST_ERR_IO", "input/output error" },
	{ QST_ERR_TIMEOUT, "QST_ERR_TIMEOUT", "timed out" },
	{ QST_ERR_DATA, "QST_ERR_DATA", "malformed data" },
	{ QST_ERR_LIMIT, "QST_ERR_LIMIT", "refused by the safety supervisor" },
	{ QST_ERR_SCRIPT, "QST_ERR_SCRIPT", "protocol script failed" },
	{ QST_ERR_DEVICE, "QST_ERR_DEVICE",
	  "device reported a fault or stopped answering" },
	{ QST_ERR_EXISTS, "QST_ERR_EXISTS",
	  "refusing to overwrite an existing file" },
	{ QST_ERR_NOTFOUND, "QST_ERR_NOTFOUND", "not found" },
	{ QST_ERR_HDF5, "QST_ERR_HDF5", "HDF5 library error" },
	{ QST_ERR_STATE, "QST_ERR_STATE", "not valid in the current state" },
	{ QST_ERR_ABORTED, "QST_ERR_ABORTED", "aborted" },
	{ QST_ERR_UNSUPPORTED, "QST_ERR_UNSUPPORTED", "not supported" },
	{ QST_ERR_CHECKSUM, "QST_ERR_CHECKSUM", "checksum mismatch" },
	{ QST_ERR_INTERRUPTED, "QST_ERR_INTERRUPTED",
	  "the trial was interrupted and is to be repeated" },
	{ QST_ERR_NOSPACE, "QST_ERR_NOSPACE", "no space left on the disk" },
};

static const struct err_text *find_err(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == err)
			return &err_table[i];
	return NULL;
}

const char *qst_strerror(int err)
{
	const struct err_text *e = find_err(err);
	return e ? e->text : "unknown error";
}

const char *qst_strerror_name(int err)
{
	const struct err_text *e = find_err(err);
	return e ? e->name : "QST_ERR_UNKNOWN";
}
