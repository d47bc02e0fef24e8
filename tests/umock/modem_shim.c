/*
 * Modem-line shim for the emulated serial ports (architecture.md, "Serial
 * (libserialport against an emulated USB-serial port)"): umockdev backs an
 * emulated tty with a pseudo-terminal, which refuses the modem-control
 * ioctls libserialport issues on open (TIOCMGET → ENOTTY). When the real
 * call fails, answer them from one static word, reporting DSR, CTS and CD
 * up, as a USB-serial bridge with nothing on its control lines would.
 * Preloaded before libumockdev-preload (tests/umock/CMakeLists.txt).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

static int modem_bits = TIOCM_DSR | TIOCM_CTS | TIOCM_CD;

static int emulate_modem(unsigned long request, int *arg)
{
	switch (request) {
	case TIOCMGET:
		*arg = modem_bits;
		return 0;
	case TIOCMSET:
		modem_bits = *arg;
		return 0;
	case TIOCMBIS:
		modem_bits |= *arg;
		return 0;
	case TIOCMBIC:
		modem_bits &= ~*arg;
		return 0;
	default:
		return -1;
	}
}

int ioctl(int fd, unsigned long request, ...)
{
	static int (*real_ioctl)(int, unsigned long, ...);
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (!real_ioctl) {
		/* POSIX's way to take a function from dlsym (see dlsym(3)). */
		void *sym = dlsym(RTLD_NEXT, "ioctl");
		memcpy(&real_ioctl, &sym, sizeof(sym));
	}
	int ret = real_ioctl(fd, request, arg);
	if (ret < 0 && arg && emulate_modem(request, arg) == 0) {
		errno = 0;
		return 0;
	}
	return ret;
}
