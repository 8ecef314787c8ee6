/* tlsfit firmware support: the small runtime shared by every tlsfit firmware
 * image (startup, semihosting and console output, UART, stack painting, tick
 * counter).
 *
 * The build (tool/firmware/build.py) defines, from targets/<name>.toml:
 *   TF_TARGET_NAME   "cortex-m4"
 *   TF_UART_BASE     0x40004000
 *   TF_CPU_CLOCK_HZ  25000000
 */
#ifndef TLSFIT_FW_H
#define TLSFIT_FW_H

#include <stddef.h>
#include <stdint.h>

#ifndef TF_TARGET_NAME
#define TF_TARGET_NAME "unknown"
#endif

/* Exit codes a firmware image reports through semihosting (exit()): the
 * exit statuses of the errors of ../errors/errors.h (constants, no table). */
#include "../errors/errors.h"
#define TF_EXIT_OK TF_ERROR_EXIT(TF_OK)
#define TF_EXIT_FAIL TF_ERROR_EXIT(TF_ERR_FAILED)               /* the firmware's own check failed */
#define TF_EXIT_UART_TIMEOUT TF_ERROR_EXIT(TF_ERR_UART_TIMEOUT) /* nothing on the UART in time */
#define TF_EXIT_FAULT TF_ERROR_EXIT(TF_ERR_FAULT)               /* a CPU fault or an unexpected exception */

/* ---- semihosting (semihost.c; raw calls, usable before the C library is
 * set up and from fault handlers; also answers newlib's system calls) ---- */
void tf_semi_write(const void *buf, size_t len); /* to the host's stdout, unbuffered */
void tf_semi_puts(const char *s);              /* to the host's stdout, no newline added */
void tf_semi_write_hex(uint32_t v);             /* "0x%08lx" without printf */
void tf_semi_exit(int code) __attribute__((noreturn)); /* SYS_EXIT_EXTENDED */

/* ---- console output without newlib's stdio (out.c): buffered; nothing
 * reaches the host before tf_out_flush() or a full buffer ---- */
void tf_out_char(char c);
void tf_out_str(const char *s);
void tf_out_u64(uint64_t v);                    /* decimal */
void tf_out_i32(int32_t v);                     /* decimal, with a '-' when negative */
void tf_out_json_str(const char *s);            /* a JSON string, escaped; null for NULL */
void tf_out_flush(void);

/* ---- CMSDK APB UART0 (TF_UART_BASE) ---- */
void tf_uart_init(void);
/* Blocking writes/reads.  `timeout_polls` bounds how many times the status
 * register is polled while waiting (0 = TF_UART_DEFAULT_POLLS).  They return
 * the number of bytes moved, which is short only on timeout. */
#ifndef TF_UART_DEFAULT_POLLS
/* Measured under QEMU 7.2: about 3-6 s without -icount, 15 s with -icount shift=0. */
#define TF_UART_DEFAULT_POLLS 100000000u
#endif
size_t tf_uart_write(const void *buf, size_t len, uint32_t timeout_polls);
size_t tf_uart_read(void *buf, size_t len, uint32_t timeout_polls);
/* Reads up to and including '\n' (stored), NUL-terminates; returns the line
 * length without the NUL, or -1 on timeout / when `cap` was too small. */
int tf_uart_read_line(char *buf, size_t cap, uint32_t timeout_polls);
/* 1 when a received byte is waiting. */
int tf_uart_rx_ready(void);
/* Sleeps until a byte is waiting (1) or tf_ticks() reaches `deadline` (0).
 * The wait is time, not instructions (WFI; under QEMU -icount the clock
 * runs at real speed while the CPU sleeps); the deadline is checked at each
 * wake-up, so at least once per SysTick wrap (2^24 ticks). */
int tf_uart_wait_rx(uint64_t deadline);
/* Time spent waiting for input in tf_uart_read so far: status-register polls,
 * and tf_ticks() elapsed while polling.  The wait is paced by the host, so it
 * is not deterministic; subtract tf_uart_wait_ticks from a tf_ticks()
 * interval to count only the firmware's own work. */
extern volatile uint32_t tf_uart_wait_polls;
extern volatile uint64_t tf_uart_wait_ticks;

/* ---- stack painting ---- */
#define TF_STACK_PATTERN 0xC5AC5AC5u
/* Paints the unused stack, from the bottom of the stack region up to just
 * below the caller's stack pointer.  startup.c calls it before main(); call
 * it again to measure a later phase on its own. */
void tf_stack_paint(void);
/* Deepest stack use since the last paint, in bytes from the top of the stack
 * region.  Equal to tf_stack_size() means the stack probably overflowed. */
size_t tf_stack_peak(void);
size_t tf_stack_size(void);

/* ---- heap (newlib's malloc goes through _sbrk, which startup.c provides) ---- */
size_t tf_heap_size(void);       /* bytes between the end of .bss and the stack */
size_t tf_heap_brk_peak(void);   /* highest _sbrk break reached, in bytes */

/* ---- tick counter: SysTick on the CPU clock, extended to 64 bits by its
 * interrupt.  Runs in QEMU's virtual time; with `-icount shift=0` every guest
 * instruction advances virtual time by 1 ns, so
 *     instructions ~= ticks * 1e9 / TF_CPU_CLOCK_HZ
 * (one tick per 1e9/TF_CPU_CLOCK_HZ instructions: 40 on MPS2). ---- */
void tf_ticks_start(void);
uint64_t tf_ticks(void);
/* Ticks per millisecond (TF_CPU_CLOCK_HZ / 1000; a function, so that code
 * compiled without the board's flags can use it). */
uint32_t tf_ticks_per_ms(void);

#endif
