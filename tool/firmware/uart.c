/* Blocking driver for the CMSDK APB UART (UART0 at TF_UART_BASE).
 * Registers: DATA +0x0, STATE +0x4 (bit0 TX full, bit1 RX full),
 * CTRL +0x8 (bit0 TX enable, bit1 RX enable, bit3 RX interrupt enable),
 * INTSTATUS/INTCLEAR +0xC (bit1 RX), BAUDDIV +0x10.  Under QEMU
 * `-serial tcp:HOST:PORT` the UART is a TCP client of a server on the host.
 * Waits poll STATE; a wait gives up after `timeout_polls` polls (0 =
 * TF_UART_DEFAULT_POLLS).
 *
 * tf_uart_wait_rx() instead sleeps (WFI) until a byte arrives or a SysTick
 * deadline passes, so that its wait is time, not instructions: under QEMU
 * -icount (sleep=on, the default) the virtual clock runs at real speed while
 * the CPU sleeps.  It needs no board's interrupt number: with PRIMASK set,
 * every NVIC line is enabled for the sleep only, so the UART's RX interrupt
 * (whichever line it is) wakes WFI without being taken; the lines, the UART
 * interrupt and their pending bits are put back before PRIMASK is cleared
 * (which lets the SysTick that may have woken it run). */
#include "tlsfit_fw.h"

#ifndef TF_UART_BASE
#error "TF_UART_BASE must be defined by the build (targets/<name>.toml uart_base)"
#endif

#define UART_REG(off) (*(volatile uint32_t *)((uintptr_t)(TF_UART_BASE) + (off)))
#define UART_DATA UART_REG(0x00)
#define UART_STATE UART_REG(0x04)
#define UART_CTRL UART_REG(0x08)
#define UART_INTCLEAR UART_REG(0x0C)
#define UART_BAUDDIV UART_REG(0x10)

#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u
#define CTRL_RX_INT_EN 0x8u
#define INT_RX 0x2u

#define SCS_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define ICTR SCS_REG(0xE000E004u)            /* INTLINESNUM: 32 lines per register - 1 */
#define NVIC_ISER(k) SCS_REG(0xE000E100u + 4u * (k))
#define NVIC_ICER(k) SCS_REG(0xE000E180u + 4u * (k))
#define NVIC_ICPR(k) SCS_REG(0xE000E280u + 4u * (k))
#define NVIC_REGS_MAX 16u

volatile uint32_t tf_uart_wait_polls;
volatile uint64_t tf_uart_wait_ticks;

void tf_uart_init(void)
{
    UART_CTRL = 0;
    UART_BAUDDIV = 16; /* the minimum the CMSDK UART accepts; QEMU ignores the rate */
    UART_INTCLEAR = 0xF;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
    /* A read of DATA makes QEMU look for host input again (it calls
     * qemu_chr_fe_accept_input).  Enabling RX does not, and QEMU stops
     * watching the TCP socket while RX is disabled, so without this read
     * the first byte from the host waits for an unrelated main-loop wake-up
     * (about 1 s).  On hardware it is harmless: RX is empty here. */
    (void)UART_DATA;
}

size_t tf_uart_write(const void *buf, size_t len, uint32_t timeout_polls)
{
    const uint8_t *p = buf;
    if (timeout_polls == 0)
        timeout_polls = TF_UART_DEFAULT_POLLS;
    for (size_t i = 0; i < len; i++) {
        uint32_t polls = 0;
        while (UART_STATE & STATE_TX_FULL) {
            if (++polls >= timeout_polls)
                return i;
        }
        UART_DATA = p[i];
    }
    return len;
}

size_t tf_uart_read(void *buf, size_t len, uint32_t timeout_polls)
{
    uint8_t *p = buf;
    if (timeout_polls == 0)
        timeout_polls = TF_UART_DEFAULT_POLLS;
    for (size_t i = 0; i < len; i++) {
        if (!(UART_STATE & STATE_RX_FULL)) {
            uint64_t t0 = tf_ticks();
            uint32_t polls = 0;
            while (!(UART_STATE & STATE_RX_FULL)) {
                if (++polls >= timeout_polls)
                    break;
            }
            tf_uart_wait_ticks += tf_ticks() - t0;
            tf_uart_wait_polls += polls;
            if (polls >= timeout_polls)
                return i;
        }
        p[i] = (uint8_t)UART_DATA;
    }
    return len;
}

int tf_uart_read_line(char *buf, size_t cap, uint32_t timeout_polls)
{
    size_t n = 0;
    while (n + 1 < cap) {
        if (tf_uart_read(&buf[n], 1, timeout_polls) != 1) {
            buf[n] = '\0';
            return -1;
        }
        if (buf[n++] == '\n') {
            buf[n] = '\0';
            return (int)n;
        }
    }
    buf[n] = '\0';
    return -1;
}

int tf_uart_rx_ready(void)
{
    return (UART_STATE & STATE_RX_FULL) != 0;
}

/* One WFI, woken by a byte on the UART or any exception (SysTick). */
static void sleep_for_input(void)
{
    uint32_t regs = (ICTR & 0xFu) + 1u, enabled[NVIC_REGS_MAX];
    __asm volatile("cpsid i" ::: "memory");
    for (uint32_t k = 0; k < regs; k++) {
        enabled[k] = NVIC_ISER(k);
        NVIC_ISER(k) = 0xFFFFFFFFu;
    }
    UART_CTRL |= CTRL_RX_INT_EN;
    if (!(UART_STATE & STATE_RX_FULL))
        __asm volatile("dsb\n\twfi" ::: "memory");
    UART_CTRL &= ~CTRL_RX_INT_EN;
    UART_INTCLEAR = INT_RX;
    for (uint32_t k = 0; k < regs; k++) {
        NVIC_ICER(k) = ~enabled[k];
        NVIC_ICPR(k) = ~enabled[k];
    }
    __asm volatile("dsb\n\tisb" ::: "memory");
    __asm volatile("cpsie i" ::: "memory");
}

int tf_uart_wait_rx(uint64_t deadline)
{
    while (!(UART_STATE & STATE_RX_FULL)) {
        if (tf_ticks() >= deadline)
            return 0;
        sleep_for_input();
    }
    return 1;
}
