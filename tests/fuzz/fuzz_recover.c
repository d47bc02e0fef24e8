/*
 * Journal recovery (station/qst_recorder.h: qst_recover), through files in
 * a private temp dir. Every line of a journal carries a CRC-32, which
 * random bytes never match, so by default the harness signs each complete
 * line itself and the fuzzer reaches the record parser and the HDF5
 * replay; an unterminated last line stays unsigned, as a torn write
 * leaves it. An input starting with '!' is written as it is, to fuzz the
 * line checking too.
 */
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../station/recorder/rec_internal.h"

static char journal[300], output[300];

/* Append " *<crc32>" to every '\n'-terminated line. */
static char *sign_lines(const uint8_t *data, size_t size, size_t *outlen)
{
	char *out = malloc(size + size * 10 + 1);
	size_t n = 0, start = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < size; i++) {
		if (data[i] != '\n')
			continue;
		memcpy(out + n, data + start, i - start);
		n += i - start;
		n += (size_t)sprintf(out + n, " *%08x\n",
				     qst_crc32(data + start, i - start));
		start = i + 1;
	}
	memcpy(out + n, data + start, size - start);
	*outlen = n + size - start;
	return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	const char *dir = fuzz_temp_dir();
	snprintf(journal, sizeof(journal), "%s/s.h5.journal", dir);
	snprintf(output, sizeof(output), "%s/s.h5", dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qst_recover_report rep;
	char err[512] = "";
	size_t len = size;
	char *text = NULL;
	int ok;

	if (size > 0 && data[0] == '!') {
		ok = fuzz_write_file(journal, data + 1, size - 1);
	} else {
		text = sign_lines(data, size, &len);
		ok = text && fuzz_write_file(journal, (const uint8_t *)text, len);
	}
	free(text);
	if (!ok)
		abort();
	int rc = qst_recover(journal, output, true, &rep, err, sizeof(err));
	if (rc == QST_OK) {
		FUZZ_CHECK(access(output, F_OK) == 0);
		FUZZ_CHECK(rep.trials >= 0 && rep.events >= 0 &&
			   rep.samples >= 0);
	} else {
		FUZZ_CHECK(err[0] != '\0' && access(output, F_OK) != 0);
	}
	unlink(output);
	unlink(journal);
	return 0;
}
