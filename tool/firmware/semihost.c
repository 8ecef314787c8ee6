/* tlsfit firmware: the link to the host through Arm semihosting, and the
 * newlib system calls answered over it.
 *
 * The firmware images used to link librdimon for this.  It costs ~2.5 KiB
 * of flash in every image (its system calls keep a table of open host files)
 * and the measured images are meant to carry as little harness as possible,
 * so the few calls the images make are answered here instead:
 *
 *   console  SYS_OPEN(":tt", "w") once, then SYS_WRITE to that handle: the
 *            host's stdout (QEMU sends SYS_WRITE0 to its semihosting console,
 *            stderr by default, which would not keep order with stdout)
 *   time     SYS_TIME, seconds since 1970 from the host's clock (certificate
 *            validity); QEMU answers it from the host also under -icount
 *   exit     SYS_EXIT_EXTENDED with the status code
 *   newlib   _write to fd 1 and 2 goes to the console, so printf works for
 *            the images that want it (hello.c, fault.c, tests); stdin reads
 *            end of file; files cannot be opened (ENOSYS).  Each call sits
 *            in its own section, so an image that never uses stdio links
 *            none of this.
 *   assert   __assert_func reports on the console and exits TF_EXIT_FAIL
 *            (newlib's own prints through fiprintf, which pulls all of stdio
 *            into every image: newlib's gmtime() asserts)
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "tlsfit_fw.h"

#define SEMI_SYS_OPEN 0x01
#define SEMI_SYS_WRITE 0x05
#define SEMI_SYS_TIME 0x11
#define SEMI_SYS_EXIT 0x18
#define SEMI_SYS_EXIT_EXTENDED 0x20
#define SEMI_ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define SEMI_ADP_STOPPED_RUNTIME_ERROR 0x20023u
#define SEMI_OPEN_MODE_W 4 /* "w": ":tt" opened for writing is the host's stdout */

static uint32_t semi_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* ------------------------------------------------------------- console */

void tf_semi_write(const void *buf, size_t len)
{
    /* .bss: 0 = not open yet (also before .bss is zeroed: QEMU RAM starts zeroed). */
    static uint32_t tt_plus_1;
    if (tt_plus_1 == 0) {
        static const char name[] = ":tt";
        uint32_t open_args[3] = {(uint32_t)(uintptr_t)name, SEMI_OPEN_MODE_W, sizeof name - 1};
        int32_t h = (int32_t)semi_call(SEMI_SYS_OPEN, open_args);
        if (h < 0)
            return;
        tt_plus_1 = (uint32_t)h + 1;
    }
    if (len == 0)
        return;
    uint32_t write_args[3] = {tt_plus_1 - 1, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    semi_call(SEMI_SYS_WRITE, write_args);
}

void tf_semi_puts(const char *s)
{
    size_t len = 0;
    while (s[len])
        len++;
    tf_semi_write(s, len);
}

void tf_semi_write_hex(uint32_t v)
{
    char buf[10];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; i++) {
        uint32_t nib = (v >> (28 - 4 * i)) & 0xFu;
        buf[2 + i] = (char)(nib < 10 ? '0' + nib : 'a' + nib - 10);
    }
    tf_semi_write(buf, sizeof buf);
}

/* ---------------------------------------------------------------- exit */

void tf_semi_exit(int code)
{
    /* SYS_EXIT_EXTENDED carries the status code on AArch32 (QEMU >= 5). */
    uint32_t block[2] = {SEMI_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semi_call(SEMI_SYS_EXIT_EXTENDED, block);
    /* Not supported: plain SYS_EXIT can only say "success" or "error". */
    semi_call(SEMI_SYS_EXIT, (const void *)(uintptr_t)(code == 0 ? SEMI_ADP_STOPPED_APPLICATION_EXIT
                                                                   : SEMI_ADP_STOPPED_RUNTIME_ERROR));
    for (;;) {
    }
}

void _exit(int code) __attribute__((noreturn));
void _exit(int code)
{
    tf_semi_exit(code);
}

/* ------------------------------------------------ newlib system calls */

int _gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    if (tv != NULL) {
        tv->tv_sec = (time_t)semi_call(SEMI_SYS_TIME, NULL);
        tv->tv_usec = 0;
    }
    return 0;
}

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    tf_semi_write(buf, (size_t)len);
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)buf;
    (void)len;
    if (fd != 0) {
        errno = EBADF;
        return -1;
    }
    return 0; /* no console input: end of file */
}

int _open(const char *path, int flags, ...)
{
    (void)path;
    (void)flags;
    errno = ENOSYS;
    return -1;
}

int _close(int fd)
{
    (void)fd;
    return 0;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR; /* line-buffered like a terminal */
    return 0;
}

int _isatty(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int _getpid(void)
{
    return 1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    tf_semi_puts("tlsfit-fw: killed by signal ");
    tf_semi_write_hex((uint32_t)sig);
    tf_semi_puts("\n");
    tf_semi_exit(TF_EXIT_FAIL);
}

void __assert_func(const char *file, int line, const char *func, const char *expr)
    __attribute__((noreturn));
void __assert_func(const char *file, int line, const char *func, const char *expr)
{
    tf_out_str("tlsfit-fw: assertion \"");
    tf_out_str(expr != NULL ? expr : "?");
    tf_out_str("\" failed in ");
    tf_out_str(func != NULL ? func : "?");
    tf_out_str(" (");
    tf_out_str(file != NULL ? file : "?");
    tf_out_str(", line ");
    tf_out_i32(line);
    tf_out_str(")\n");
    tf_out_flush();
    tf_semi_exit(TF_EXIT_FAIL);
}
